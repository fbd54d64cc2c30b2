"""Decode flow of the 2.5 diffusion video decoder (ports ``DiffusionVideoDecoder._decode_pixels`` at v1.2.0).

Stages 0-2 run once on the floor- and ghost-padded latent; stage 3 and stage 5 run per tile of the stage-4 grid
(one tile when untiled); tiles are blended in pixel space and the result is cropped back to the content.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import mlx.core as mx
import numpy as np

from mlx_ltx_core.model.video_vae import diffusion_geometry as geo
from mlx_ltx_core.model.video_vae.ops import NoiseGenerator, normal_noise

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.diffusion_decoder import DiffusionVideoDecoder

TIME_SCALE, SPACE_SCALE = 8, 32


def accumulator_dtype(feature_dtype: mx.Dtype) -> mx.Dtype:
    """The blend buffer's dtype: float16 for bfloat16 features (as the reference), else the features' own."""
    return mx.float16 if feature_dtype == mx.bfloat16 else feature_dtype


def _check(dec: DiffusionVideoDecoder, latent: mx.array) -> None:
    if latent.ndim != 5 or latent.shape[-1] != dec.args.in_channels:
        raise ValueError(
            f"latent has shape {tuple(latent.shape)}; the diffusion decoder takes (B, T, H, W, {dec.args.in_channels})"
        )


def _crop_to(pixels: mx.array, frames: int, height: int, width: int) -> mx.array:
    """``crop_pixels_to_content`` without recorded pads: T from the end, H and W symmetrically."""
    pixels = geo.resize_axis(pixels, 1, frames, "repeat_last")[0]
    pixels = geo.resize_axis(pixels, 2, height, "symmetric")[0]
    return geo.resize_axis(pixels, 3, width, "symmetric")[0]


# ---- tiling (v1.2.0 diffusion_tiling.prepare_tile_schedule + _decode_temporal_group_isolated) -------------------


@dataclass(frozen=True)
class DimensionSizeConfig:
    """Tile size and overlap of one axis in frames / pixels; ``tile_size`` 0 = untiled."""

    tile_size: int = 0
    overlap: int = 0

    def __post_init__(self) -> None:
        if self.tile_size < 0 or self.overlap < 0 or (self.tile_size == 0 and self.overlap):
            raise ValueError(f"tile_size={self.tile_size}, overlap={self.overlap}: need sizes >= 0, 0 overlap untiled")
        if self.tile_size and self.overlap >= self.tile_size:
            raise ValueError(f"overlap {self.overlap} must be less than tile size {self.tile_size}")


@dataclass(frozen=True)
class TileSizeConfig:
    """The reference's ``TileSizeConfig`` for the diffusion decoder: frames, height, width."""

    frames: DimensionSizeConfig = DimensionSizeConfig()
    height: DimensionSizeConfig = DimensionSizeConfig()
    width: DimensionSizeConfig = DimensionSizeConfig()


class Interval(NamedTuple):
    start: int
    end: int
    left_ramp: int
    right_ramp: int


class DiffusionTile(NamedTuple):
    """``s4``: stage-4-input (start, stop) per axis; ``out``: pixel (start, stop); ``masks``: 1-D blend masks."""

    s4: tuple[tuple[int, int], ...]
    out: tuple[tuple[int, int], ...]
    masks: tuple[np.ndarray | None, ...]  # None: ones (an untiled axis)


def split_by_size(length: int, size: int, overlap: int, min_size: int) -> list[Interval]:
    """``ltx_core.tiling.split_by_size`` with ``min_tile_size``: a short last tile grows leftwards."""
    if length < min_size or length <= size:
        return [Interval(0, length, 0, 0)]
    n = (length + size - 2 * overlap - 1) // (size - overlap)
    tiles = [Interval(0, size, 0, overlap)]
    tiles += [Interval(i * (size - overlap), i * (size - overlap) + size, overlap, overlap) for i in range(1, n - 1)]
    tiles.append(Interval((n - 1) * (size - overlap), length, overlap, 0))
    last = tiles[-1]
    if len(tiles) > 1 and last.end - last.start < min_size:
        start = last.end - min_size
        grown = tiles[-2].end - start
        tiles[-2:] = [tiles[-2]._replace(right_ramp=grown), last._replace(start=start, left_ramp=grown)]
    return tiles


def trapezoid(length: int, left: int, right: int) -> np.ndarray:
    """Symmetric-ramp blend mask (``compute_trapezoidal_mask_1d``, left_starts_from_0=False), float32."""
    mask = np.ones(length, np.float32)
    left, right = min(max(left, 0), length), min(max(right, 0), length)
    if left:
        mask[:left] *= np.linspace(0.0, 1.0, left + 2, dtype=np.float32)[1:-1]
    if right:
        mask[-right:] *= np.linspace(1.0, 0.0, right + 2, dtype=np.float32)[1:-1]
    return np.clip(mask, 0, 1)


def _propagate(iv: Interval, stride: int, causal: bool) -> Interval:
    start, end = iv.start * stride, iv.end * stride
    if causal and stride == 2:
        end -= 1
        start -= 1 if iv.start else 0
    return Interval(start, end, iv.left_ramp * stride, iv.right_ramp * stride)


def recommended_overlaps(dec: DiffusionVideoDecoder) -> tuple[int, int]:
    """Smallest legal (frames, pixels) overlaps: the stage-4/5 halos in pixels, rounded up to 8 frames / 32 px."""
    st, sh, _ = dec.upsamples[3].stride
    halos = dec.tile_halos
    dom = [max(h[a] for h in halos) for a in range(3)]
    return -(-dom[0] * st // 8) * 8, -(-max(dom[1], dom[2]) * sh * dec.patch_size // 32) * 32


def tile_schedule(
    dec: DiffusionVideoDecoder, s4: tuple[int, int, int], full: tuple[int, int, int], tiling: TileSizeConfig | None
) -> list[DiffusionTile]:
    """Tiles over the stage-4-input grid (temporal axis slowest), with their pixel extents in the ``full`` padded
    video and their blend masks; one whole tile when ``tiling`` is None."""
    tiling = tiling or TileSizeConfig()
    stride = dec.upsamples[3].stride
    scale = (stride[0], stride[1] * dec.patch_size, stride[2] * dec.patch_size)
    min_t, min_hw = recommended_overlaps(dec)
    axes = []
    for a, (name, cfg) in enumerate((("frames", tiling.frames), ("height", tiling.height), ("width", tiling.width))):
        if not cfg.tile_size:
            axes.append([((0, s4[a]), (0, full[a]), None)])
            continue
        floor = min_t if a == 0 else min_hw
        if cfg.overlap < floor:
            raise ValueError(f"{name} overlap {cfg.overlap} is below the required {floor} (tile halos of this decoder)")
        f = scale[a]
        if cfg.tile_size < 2 * f or cfg.tile_size % f or cfg.overlap % f:
            raise ValueError(
                f"{name}: tile_size {cfg.tile_size} and overlap {cfg.overlap} must be multiples of {f}, tile >= {2 * f}"
            )
        size = max(max(2, cfg.overlap // f + 1), cfg.tile_size // f)
        specs = []
        for iv in split_by_size(s4[a], size, cfg.overlap // f, dec.tile_min_sizes[a]):
            px = _propagate(iv, stride[a], a == 0)
            if a:
                px = _propagate(px, dec.patch_size, False)
            specs.append(
                ((iv.start, iv.end), (px.start, px.end), trapezoid(px.end - px.start, px.left_ramp, px.right_ramp))
            )
        axes.append(specs)
    return [DiffusionTile(*zip(*combo, strict=True)) for combo in itertools.product(*axes)]  # type: ignore[arg-type]


def _complementary(tiles: list[DiffusionTile], full: tuple[int, int, int]) -> bool:
    """Do the 1-D masks of the distinct extents of every axis sum to one (``masks_are_complementary``)?"""
    for a in range(3):
        acc = np.zeros(full[a], np.float32)
        for lo, hi in {t.out[a]: None for t in tiles}:
            mask = next(t.masks[a] for t in tiles if t.out[a] == (lo, hi))
            acc[lo:hi] += 1.0 if mask is None else mask
        if not np.allclose(acc, 1.0, atol=1e-5, rtol=0.0):
            return False
    return True


def _scaled(x: mx.array, masks: tuple[np.ndarray | None, ...]) -> mx.array:
    """``scale_by_masks_1d``: multiply by the T, H, W masks in turn (float32)."""
    for axis, mask in zip((1, 2, 3), masks, strict=True):
        if mask is not None:
            shape = [1] * 5
            shape[axis] = mask.shape[0]
            x = x * mx.array(mask).reshape(shape)
    return x


def decode_chunks(
    dec: DiffusionVideoDecoder,
    latent: mx.array,
    generator: NoiseGenerator | None,
    w_chunks: int,
    tiling: TileSizeConfig | None = None,
    intermediates: dict[str, mx.array] | None = None,
) -> Iterator[mx.array]:
    """Decode (B, T, H, W, C) to video frame chunks (B, f, 32H, 32W, out) in [-1, 1]; untiled: one chunk.

    Stages 0-2 run once; each stage-4 tile runs stage 3 + stage 5 from its own noise draw (single x0 step) or from
    its window of one whole-video draw (otherwise), in the reference's tile order; blended in pixel space and emitted
    per temporal group as soon as its exclusive frames are final.
    """
    _check(dec, latent)
    record = intermediates.__setitem__ if intermediates is not None else None
    b, t, h, w, _ = latent.shape
    content = ((t - 1) * TIME_SCALE + 1, h * SPACE_SCALE, w * SPACE_SCALE)
    padded, (_, h_pad, w_pad) = geo.ensure_min_latent_shape(latent, dec.stage_min_tile_sizes)
    _, tp, hp, wp, _ = padded.shape
    strides = [u.stride for u in dec.upsamples]
    s4 = geo.stage4_thw(strides, tp, hp, wp)
    full = ((tp - 1) * TIME_SCALE + 1, hp * SPACE_SCALE, wp * SPACE_SCALE)
    tiles = tile_schedule(dec, s4, full, tiling)
    ghosted = geo.resize_axis(padded, 1, tp + dec.ghost_latent_frames, "repeat_last")[0]
    feat = dec.stages_0_to_2(ghosted, record)
    out_c = dec.args.out_channels
    single_x0 = len(dec.timesteps()) == 1 and dec.args.model_output_type == "x0"
    x_init = None if single_x0 else normal_noise(generator, (b, *full, out_c), latent.dtype).astype(feat.dtype)
    acc = accumulator_dtype(feat.dtype)
    complementary = _complementary(tiles, full)
    floor = max(1e-8, float(np.finfo(np.float16).tiny)) if acc == mx.float16 else 1e-8
    groups = [list(g) for _, g in itertools.groupby(tiles, key=lambda tl: tl.out[0])]

    def decode_group(group: list[DiffusionTile]) -> tuple[mx.array, mx.array | None]:
        g0, g1 = group[0].out[0]
        buf = mx.zeros((b, g1 - g0, *full[1:], out_c), acc)
        wts = None if complementary else mx.zeros(buf.shape, acc)
        for tile in group:
            (t0, t1), (h0, h1), (w0, w1) = tile.s4
            is_origin, trailing = t0 == 0, t1 == s4[0]
            feat_tile = feat[:, t0 : feat.shape[1] if trailing else t1, h0:h1, w0:w1]
            canvas = geo.stage5_pixel_shape(
                (t1 - t0, h1 - h0, w1 - w0), strides[3], dec.patch_size, dec.args.stage5_kernel[0], is_origin, trailing
            )
            (f0, f1), (y0, y1), (x0, x1) = tile.out
            if x_init is None:
                x_t = normal_noise(generator, (b, *canvas, out_c), feat.dtype)
            else:
                x_t = x_init[:, f0:f1, y0:y1, x0:x1]
                x_t = geo.resize_axis(x_t, 1, canvas[0], "repeat_last")[0]
                x_t = geo.resize_axis(geo.resize_axis(x_t, 2, canvas[1], "symmetric")[0], 3, canvas[2], "symmetric")[0]
            pix = dec.decode_tile(feat_tile, x_t, is_origin, trailing, w_chunks)
            pix = _crop_to(pix, f1 - f0, y1 - y0, x1 - x0).astype(acc)
            region = (slice(None), slice(f0 - g0, f1 - g0), slice(y0, y1), slice(x0, x1))
            buf[region] = buf[region] + _scaled(pix, tile.masks).astype(acc)
            if wts is not None:
                wts[region] = wts[region] + _scaled(mx.ones(pix.shape, acc), tile.masks).astype(acc)
        return buf, wts

    def emit(buf: mx.array, wts: mx.array | None, start: int) -> mx.array | None:
        keep = min(buf.shape[1], content[0] - start)
        if start >= content[0] or keep < 1:
            return None
        chunk = buf[:, :keep]
        if wts is not None:
            chunk = chunk / mx.maximum(wts[:, :keep], floor)
        y0, x0 = h_pad.before * SPACE_SCALE, w_pad.before * SPACE_SCALE
        return chunk.astype(latent.dtype)[:, :, y0 : y0 + content[1], x0 : x0 + content[2]]

    stub: tuple[mx.array, mx.array | None] | None = None
    for gi, group in enumerate(groups):
        buf, wts = decode_group(group)
        if stub is not None and (n := stub[0].shape[1]) > 0:
            buf[:, :n] = stub[0] + buf[:, :n]
            if wts is not None and stub[1] is not None:
                wts[:, :n] = stub[1] + wts[:, :n]
        start = group[0].out[0][0]
        if gi + 1 < len(groups):
            excl = min(max(0, groups[gi + 1][0].out[0][0] - start), buf.shape[1])
            chunk = emit(buf[:, :excl], None if wts is None else wts[:, :excl], start)
            stub = (buf[:, excl:], None if wts is None else wts[:, excl:])
        else:
            chunk = emit(buf, wts, start)
        if chunk is not None:
            mx.eval(chunk)
            yield chunk


def decode_untiled(
    dec: DiffusionVideoDecoder,
    latent: mx.array,
    generator: NoiseGenerator | None,
    w_chunks: int,
    intermediates: dict[str, mx.array] | None = None,
) -> mx.array:
    """The whole video in one chunk (B, 8(T-1)+1, 32H, 32W, out)."""
    return next(decode_chunks(dec, latent, generator, w_chunks, None, intermediates))
