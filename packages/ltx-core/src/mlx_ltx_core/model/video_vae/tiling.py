"""Tile plans and blend masks for tiled VAE decoding / encoding (ports video_vae/tiling.py and the split / map
helpers of video_vae/video_vae.py).

A plan covers the (F, H, W) axes; batch and channels are never split. Decoder tiles are cut in latent space and
mapped to pixels (x8 frames, x32 pixels) with trapezoid masks; encoder tiles are cut in pixels and mapped to
latents with rectangular masks. Masks are float32, as the reference builds them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import mlx.core as mx
import numpy as np

from mlx_ltx_core.types import VIDEO_SCALE_FACTORS

TIME_SCALE, SPACE_SCALE = VIDEO_SCALE_FACTORS.time, VIDEO_SCALE_FACTORS.height  # frames, pixels per latent


@dataclass(frozen=True)
class SpatialTilingConfig:
    """Square spatial tiles: ``tile_size_in_pixels`` ≥ 64 and divisible by 32, overlap divisible by 32 and smaller."""

    tile_size_in_pixels: int
    tile_overlap_in_pixels: int = 0

    def __post_init__(self) -> None:
        size, overlap = self.tile_size_in_pixels, self.tile_overlap_in_pixels
        s = SPACE_SCALE  # tiles of at least two latents
        if size < 2 * s or size % s:
            raise ValueError(f"tile_size_in_pixels={size} must be at least {2 * s} and divisible by {s} (e.g. 512)")
        if overlap < 0 or overlap % s or overlap >= size:
            raise ValueError(
                f"tile_overlap_in_pixels={overlap} must be divisible by {s} and less than tile_size_in_pixels={size}"
            )


@dataclass(frozen=True)
class TemporalTilingConfig:
    """Temporal tiles: ``tile_size_in_frames`` ≥ 16 and divisible by 8, overlap divisible by 8 and smaller."""

    tile_size_in_frames: int
    tile_overlap_in_frames: int = 0

    def __post_init__(self) -> None:
        size, overlap = self.tile_size_in_frames, self.tile_overlap_in_frames
        t = TIME_SCALE  # tiles of at least two latents
        if size < 2 * t or size % t:
            raise ValueError(f"tile_size_in_frames={size} must be at least {2 * t} and divisible by {t} (e.g. 64)")
        if overlap < 0 or overlap % t or overlap >= size:
            raise ValueError(
                f"tile_overlap_in_frames={overlap} must be divisible by {t} and less than tile_size_in_frames={size}"
            )


@dataclass(frozen=True)
class TilingConfig:
    """Spatial and/or temporal tiling; ``None`` leaves that axis whole."""

    spatial_config: SpatialTilingConfig | None = None
    temporal_config: TemporalTilingConfig | None = None

    @classmethod
    def default(cls) -> TilingConfig:
        """The reference CLI's tiling: 512 px tiles overlapping 64 px, 64-frame tiles overlapping 24 frames."""
        return cls(SpatialTilingConfig(512, 64), TemporalTilingConfig(64, 24))


@dataclass(frozen=True)
class DimensionIntervals:
    """One axis cut into N intervals ``[starts[i], ends[i])`` with left/right blend ramp lengths."""

    starts: list[int]
    ends: list[int]
    left_ramps: list[int]
    right_ramps: list[int]


class Tile(NamedTuple):
    """``in_coords`` cut the input, ``out_coords`` place the output, ``masks_1d`` (output units, None = 1) blend."""

    in_coords: tuple[slice, slice, slice]
    out_coords: tuple[slice, slice, slice]
    masks_1d: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]

    def blend_mask(self, dtype: mx.Dtype = mx.float32) -> mx.array:
        """Separable mask (1, F, H, W, 1): the product of the per-axis masks in float32, then cast."""
        mask = np.ones((1, 1, 1), np.float32)
        for axis, m in enumerate(self.masks_1d):
            if m is not None:
                shape = [1, 1, 1]
                shape[axis] = m.shape[0]
                mask = mask * m.reshape(shape)
        return mx.array(mask[None, ..., None]).astype(dtype)


Split = Callable[[int], DimensionIntervals]
Mapping = Callable[[DimensionIntervals], tuple[list[slice], list[np.ndarray | None]]]


def whole(length: int) -> DimensionIntervals:
    """The reference's default split: one interval."""
    return DimensionIntervals([0], [length], [0], [0])


def unmapped(_intervals: DimensionIntervals) -> tuple[list[slice], list[np.ndarray | None]]:
    """The reference's default mapping: the whole output axis, no mask."""
    return [slice(0, None)], [None]


def trapezoidal_mask_1d(length: int, ramp_left: int, ramp_right: int, left_starts_from_0: bool = False) -> np.ndarray:
    """Ones with linear fade-in / fade-out ramps; a causal temporal fade-in starts at exactly 0."""
    if length <= 0:
        raise ValueError(f"mask length={length} must be positive")
    ramp_left, ramp_right = max(0, min(ramp_left, length)), max(0, min(ramp_right, length))
    mask = np.ones(length, np.float32)
    if ramp_left > 0:
        fade_in = np.linspace(0.0, 1.0, ramp_left + (1 if left_starts_from_0 else 2))[:-1]
        mask[:ramp_left] *= (fade_in if left_starts_from_0 else fade_in[1:]).astype(np.float32)
    if ramp_right > 0:
        mask[-ramp_right:] *= np.linspace(1.0, 0.0, ramp_right + 2)[1:-1].astype(np.float32)
    return np.clip(mask, 0.0, 1.0)


def rectangular_mask_1d(length: int, left: int, right: int) -> np.ndarray:
    """Ones with ``left`` leading and ``right`` trailing zeros."""
    if length <= 0:
        raise ValueError(f"mask length={length} must be positive")
    mask = np.ones(length, np.float32)
    mask[:left] = 0
    if right > 0:
        mask[-right:] = 0
    return mask


def split_with_symmetric_overlaps(size: int, overlap: int) -> Split:
    """Intervals of ``size`` stepping ``size − overlap``; the last one ends at the axis end."""

    def split(length: int) -> DimensionIntervals:
        if length <= size:
            return whole(length)
        amount = (length + size - 2 * overlap - 1) // (size - overlap)
        starts = [i * (size - overlap) for i in range(amount)]
        ends = [s + size for s in starts[:-1]] + [length]
        return DimensionIntervals(starts, ends, [0] + [overlap] * (amount - 1), [overlap] * (amount - 1) + [0])

    return split


def split_temporal_latents(size: int, overlap: int) -> Split:
    """Causal latent split: every tile after the first starts one latent earlier, its left ramp one longer."""
    symmetric = split_with_symmetric_overlaps(size, overlap)

    def split(length: int) -> DimensionIntervals:
        if length <= size:
            return whole(length)
        iv = symmetric(length)
        starts = iv.starts[:1] + [s - 1 for s in iv.starts[1:]]
        left = iv.left_ramps[:1] + [r + 1 for r in iv.left_ramps[1:]]
        return DimensionIntervals(starts, iv.ends, left, iv.right_ramps)

    return split


def split_temporal_frames(size: int, overlap: int) -> Split:
    """Encoder frame split: every tile but the last ends one frame later (1 + 8k frames), no right ramps."""
    symmetric = split_with_symmetric_overlaps(size, overlap)

    def split(length: int) -> DimensionIntervals:
        if length <= size:
            return whole(length)
        iv = symmetric(length)
        ends = [e + 1 for e in iv.ends[:-1]] + iv.ends[-1:]
        return DimensionIntervals(iv.starts, ends, iv.left_ramps, [0] * len(iv.ends))

    return split


def make_mapping(fn: Callable[[int, int, int, int, int], tuple[slice, np.ndarray]], scale: int) -> Mapping:
    def mapping(iv: DimensionIntervals) -> tuple[list[slice], list[np.ndarray | None]]:
        pairs = [fn(*args, scale) for args in zip(iv.starts, iv.ends, iv.left_ramps, iv.right_ramps, strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    return mapping


def map_temporal_interval_to_frame(begin: int, end: int, left: int, right: int, scale: int) -> tuple[slice, np.ndarray]:
    """Latents ``[begin, end)`` -> frames ``[8·begin, 1 + 8·(end−1))``; left ramp ``1 + 8(r−1)``, right ``8r``."""
    start, stop = begin * scale, 1 + (end - 1) * scale
    left_frames = 0 if left == 0 else 1 + (left - 1) * scale
    return slice(start, stop), trapezoidal_mask_1d(stop - start, left_frames, right * scale, True)


def map_spatial_interval_to_pixel(begin: int, end: int, left: int, right: int, scale: int) -> tuple[slice, np.ndarray]:
    """Latents ``[begin, end)`` -> pixels ``[32·begin, 32·end)`` with ramps x32."""
    start, stop = begin * scale, end * scale
    return slice(start, stop), trapezoidal_mask_1d(stop - start, left * scale, right * scale, False)


def map_temporal_interval_to_latent(
    begin: int, end: int, left: int, right: int, scale: int
) -> tuple[slice, np.ndarray]:
    """Frames ``[begin, end)`` -> latents; the first ``1 + (left−1)//8`` latents are masked out."""
    if right // scale != 0:
        raise ValueError("tiled encoding: temporal tiles must have a right ramp of 0")
    start, stop = begin // scale, (end - 1) // scale + 1
    left_latents = 0 if left == 0 else 1 + (left - 1) // scale
    return slice(start, stop), rectangular_mask_1d(stop - start, left_latents, 0)


def map_spatial_interval_to_latent(begin: int, end: int, left: int, right: int, scale: int) -> tuple[slice, np.ndarray]:
    """Pixels ``[begin, end)`` -> latents; ``left//32 − 1`` leading and (if any overlap) 1 trailing latent masked."""
    start, stop = begin // scale, end // scale
    return slice(start, stop), rectangular_mask_1d(stop - start, max(0, left // scale - 1), 0 if right == 0 else 1)


def create_tiles(shape: tuple[int, int, int], splits: list[Split], mappings: list[Mapping]) -> list[Tile]:
    """Every combination of the per-axis intervals, frames outermost (the reference's itertools.product order)."""
    ins, outs, masks = [], [], []
    for length, split, mapping in zip(shape, splits, mappings, strict=True):
        iv = split(length)
        ins.append([slice(s, e) for s, e in zip(iv.starts, iv.ends, strict=True)])
        o, m = mapping(iv)
        outs.append(o)
        masks.append(m)
    return [
        Tile(i, o, m)
        for i, o, m in zip(itertools.product(*ins), itertools.product(*outs), itertools.product(*masks), strict=True)
    ]
