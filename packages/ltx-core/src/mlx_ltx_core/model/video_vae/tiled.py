"""Tiled decoding as a generator of finished frame chunks, and tiled encoding (ports ``VideoDecoder.tiled_decode``,
``VideoEncoder.tiled_encode`` and ``get_video_chunks_number`` of video_vae/video_vae.py).

Decoding groups the tiles by their output frame interval. Each group is accumulated (``Σ tile·mask``) into a
buffer spanning all pixels of its frames, one evaluated tile at a time; the frames that no later group touches are
then divided by the blend weights and yielded, and only the overlap with the next group is carried over. The
chunks (count, sizes and values) are the reference's, which yields the same frames one group later
(docs/video_vae.md).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator

import mlx.core as mx
import numpy as np

from mlx_ltx_core.model.video_vae.tiling import (
    SPACE_SCALE,
    TIME_SCALE,
    Mapping,
    Split,
    Tile,
    TilingConfig,
    create_tiles,
    make_mapping,
    map_spatial_interval_to_latent,
    map_spatial_interval_to_pixel,
    map_temporal_interval_to_frame,
    map_temporal_interval_to_latent,
    split_temporal_frames,
    split_temporal_latents,
    split_with_symmetric_overlaps,
    unmapped,
    whole,
)
from mlx_ltx_core.types import VIDEO_SCALE_FACTORS

logger = logging.getLogger(__name__)
MIN_ENCODE_OVERLAP_PIXELS, MIN_ENCODE_OVERLAP_FRAMES = 64, 16  # the reference raises smaller overlaps to these


def prepare_tiles_for_decoding(latent_shape: tuple[int, int, int], tiling: TilingConfig | None) -> list[Tile]:
    """Tiles of a latent with (F', H', W') = ``latent_shape``; spatial tile sizes follow the aspect ratio.

    Without a temporal config all frames form one temporal tile (the reference fails there; see docs/video_vae.md).
    """
    f, h, w = latent_shape
    splits: list[Split] = [whole, whole, whole]
    mappings: list[Mapping] = [unmapped, unmapped, unmapped]
    spatial = tiling.spatial_config if tiling else None
    temporal = tiling.temporal_config if tiling else None
    if spatial is not None:
        size, overlap = spatial.tile_size_in_pixels // SPACE_SCALE, spatial.tile_overlap_in_pixels // SPACE_SCALE
        for axis, length in ((1, h), (2, w)):
            tile = max(max(2, overlap + 1), round(size * length / max(h, w)))
            splits[axis] = split_with_symmetric_overlaps(tile, overlap)
            mappings[axis] = make_mapping(map_spatial_interval_to_pixel, SPACE_SCALE)
    mappings[0] = make_mapping(map_temporal_interval_to_frame, TIME_SCALE)
    if temporal is not None:
        size, overlap = temporal.tile_size_in_frames // TIME_SCALE, temporal.tile_overlap_in_frames // TIME_SCALE
        splits[0] = split_temporal_latents(size, overlap)
    return create_tiles((f, h, w), splits, mappings)


def group_tiles_by_temporal_slice(tiles: list[Tile]) -> list[list[Tile]]:
    """Consecutive tiles sharing one output frame interval."""
    groups: list[list[Tile]] = []
    for tile in tiles:
        if groups and groups[-1][0].out_coords[0] == tile.out_coords[0]:
            groups[-1].append(tile)
        else:
            groups.append([tile])
    return groups


def tiled_decode(
    decode: Callable[[mx.array], mx.array],
    latent: mx.array,
    tiling: TilingConfig | None,
    group: mx.distributed.Group | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> Iterator[mx.array]:
    """Yield the decoded video (B, F, H, W, 3) of ``latent`` (B, F', H', W', C) as consecutive frame chunks;
    ``on_tile(done, total)`` is told before the first tile and after each one (progress finer than the chunks).

    ``decode`` maps a latent tile to its video tile. Memory: one temporal group's blend sum (all pixels of its
    frames), the overlap carried from the previous group, and one tile's decode. The blend weights need no
    buffer: every temporal group is cut by the same spatial intervals, so the reference's ``Σ mask`` is the
    product of per-axis sums ``T(f)·Wh(y)·Ww(x)``.

    With a ``group`` of N ranks, N temporal groups are decoded at a time, their tiles dealt round-robin over
    the ranks; each rank sums its own tiles and an all-sum completes every group on every rank (N blend sums
    resident). A rank still builds, unevaluated, the tiles it does not own: the noise generator then advances as
    in one process, so a noise-injecting decoder gives the same frames.
    """
    _, f, h, w, _ = latent.shape
    tiles = prepare_tiles_for_decoding((f, h, w), tiling)
    groups = group_tiles_by_temporal_slice(tiles)
    sizes = (VIDEO_SCALE_FACTORS.pixel_frames(f), h * SPACE_SCALE, w * SPACE_SCALE)
    weight_t, weight_h, weight_w = (_axis_weights(tiles, axis, n) for axis, n in enumerate(sizes))
    weight_hw = mx.array(np.outer(weight_h, weight_w))[..., None]
    world, rank = (1, 0) if group is None else (group.size(), group.rank())
    report, dealt = on_tile or (lambda _done, _total: None), itertools.count(1)
    report(0, len(tiles))

    def tick() -> None:
        report(next(dealt), len(tiles))

    carry: mx.array | None = None
    for first in range(0, len(groups), world):
        sums = _round_sums(decode, latent, groups[first : first + world], sizes[1:], (world, rank), group, tick)
        for k, acc in enumerate(sums, start=first):
            frames = groups[k][0].out_coords[0]
            if carry is not None:
                acc = acc.at[:, : carry.shape[1]].add(carry)
            done = (groups[k + 1][0].out_coords[0].start if k + 1 < len(groups) else frames.stop) - frames.start
            weights = mx.array(weight_t[frames.start : frames.start + done])[:, None, None, None] * weight_hw
            acc = acc.at[:, :done].divide(mx.maximum(weights, 1e-8).astype(acc.dtype))  # in place
            carry = mx.array(acc[:, done:]) if k + 1 < len(groups) else None  # a copy of the unfinished frames
            chunk = acc[:, :done]  # a view: no copy of the finished frames
            sums[k - first] = None  # type: ignore[call-overload]  # drop the list's reference: acc updates in place
            del acc, weights
            mx.eval(chunk, *([carry] if carry is not None else []))
            yield chunk
            del chunk  # the caller decides how long a chunk lives


def _round_sums(
    decode: Callable[[mx.array], mx.array],
    latent: mx.array,
    groups: list[list[Tile]],
    pixels: tuple[int, int],
    ranks: tuple[int, int],
    group: mx.distributed.Group | None,
    tick: Callable[[], None],
) -> list[mx.array]:
    """``Σ tile·mask`` of each temporal group in ``groups``, from this rank's tiles (all of them on one rank),
    all-summed over ``group``; ``tick()`` after each tile."""
    world, rank = ranks
    sums, dealt = [], 0
    for tiles in groups:
        frames = tiles[0].out_coords[0]
        acc = mx.zeros((latent.shape[0], frames.stop - frames.start, *pixels, 3), dtype=latent.dtype)
        for tile in tiles:
            piece = latent[:, tile.in_coords[0], *tile.in_coords[1:]]
            if dealt % world == rank:
                # Rebind before evaluating: MLX then updates the buffer in place (an extra reference forces a copy).
                acc = _accumulate(acc, decode(piece), tile)
                mx.eval(acc)
            else:
                decode(piece)  # built, never evaluated: the noise generator advances as in one process
            dealt += 1
            tick()
        sums.append(acc)
        del acc
    if group is not None and world > 1:
        sums = [mx.distributed.all_sum(acc, group=group) for acc in sums]
        mx.eval(sums)
    return sums


def _axis_weights(tiles: list[Tile], axis: int, length: int) -> np.ndarray:
    """Sum over the distinct intervals of one axis of their masks (float32), the per-axis factor of ``Σ mask``."""
    total = np.zeros(length, np.float32)
    for s, m in {(t.out_coords[axis].start, t.out_coords[axis].stop): t.masks_1d[axis] for t in tiles}.items():
        total[slice(*s)] += np.float32(1) if m is None else m
    return total


def _accumulate(acc: mx.array, decoded: mx.array, tile: Tile) -> mx.array:
    """Lazy ``acc[tile] += decoded·mask`` (``.at[].add``: in place once evaluated, where a slice assignment would
    copy ``acc``), clipped to the group's frames as the reference does."""
    mask = tile.blend_mask(acc.dtype)
    n = min(decoded.shape[1], acc.shape[1])
    if decoded.shape[1] > n:
        decoded = decoded[:, :n]
    mask = mask[:, :n] if mask.shape[1] > 1 else mask
    hs, ws = tile.out_coords[1], tile.out_coords[2]
    return acc.at[:, :n, hs, ws].add(decoded * mask)


def get_video_chunks_number(num_frames: int, tiling: TilingConfig | None = None) -> int:
    """How many chunks ``tiled_decode`` yields for a video of ``num_frames`` (1 + 8k) frames.

    Counted from the tile plan: the reference's closed formula ``(F − 1 + stride − 1) // stride`` ignores the causal
    one-latent shift and can be off (e.g. 97 frames with the default tiling: it says 3, the decode yields 2).
    """
    if tiling is None or tiling.temporal_config is None:
        return 1
    cfg = tiling.temporal_config
    split = split_temporal_latents(cfg.tile_size_in_frames // TIME_SCALE, cfg.tile_overlap_in_frames // TIME_SCALE)
    return len(split(VIDEO_SCALE_FACTORS.latent_frames(num_frames)).starts)


def prepare_tiles_for_encoding(video_shape: tuple[int, int, int], tiling: TilingConfig | None) -> list[Tile]:
    """Tiles of a video with (F, H, W) = ``video_shape``; overlaps below 64 px / 16 frames are raised to those."""
    splits: list[Split] = [whole, whole, whole]
    mappings: list[Mapping] = [unmapped, unmapped, unmapped]
    spatial = tiling.spatial_config if tiling else None
    temporal = tiling.temporal_config if tiling else None
    if spatial is not None:
        size = spatial.tile_size_in_pixels
        overlap = _raise_overlap(spatial.tile_overlap_in_pixels, MIN_ENCODE_OVERLAP_PIXELS, size, "pixels")
        for axis in (1, 2):
            splits[axis] = split_with_symmetric_overlaps(size, overlap)
            mappings[axis] = make_mapping(map_spatial_interval_to_latent, SPACE_SCALE)
    if temporal is not None:
        size = temporal.tile_size_in_frames
        overlap = _raise_overlap(temporal.tile_overlap_in_frames, MIN_ENCODE_OVERLAP_FRAMES, size, "frames")
        splits[0] = split_temporal_frames(size, overlap)
        mappings[0] = make_mapping(map_temporal_interval_to_latent, TIME_SCALE)
    return create_tiles(video_shape, splits, mappings)


def _raise_overlap(overlap: int, minimum: int, size: int, unit: str) -> int:
    if overlap < minimum:
        logger.warning("tiled encoding: overlap of %d %s raised to the minimum %d", overlap, unit, minimum)
        overlap = minimum
    if overlap >= size:
        raise ValueError(
            f"tile_size_in_{unit}={size} must exceed the tiled-encoding overlap of {overlap} {unit} "
            f"(at least {minimum}); use a larger tile"
        )
    return overlap


def tiled_encode(
    encode: Callable[[mx.array], mx.array], video: mx.array, latent_channels: int, tiling: TilingConfig | None
) -> mx.array:
    """Encode ``video`` (B, F, H, W, 3), F = 1 + 8k, tile by tile: ``Σ latent·mask / Σ mask`` (clamped at 1e-8)."""
    b, f, h, w, _ = video.shape
    shape = (b, VIDEO_SCALE_FACTORS.latent_frames(f), h // SPACE_SCALE, w // SPACE_SCALE, latent_channels)
    acc = mx.zeros(shape, dtype=video.dtype)
    weights = mx.zeros((1, *shape[1:4], 1), dtype=video.dtype)
    for tile in prepare_tiles_for_encoding((f, h, w), tiling):
        latent = encode(video[:, tile.in_coords[0], *tile.in_coords[1:]])
        mask = tile.blend_mask(acc.dtype)
        ts, hs, ws = tile.out_coords
        acc = acc.at[:, ts, hs, ws].add(latent * mask)
        weights = weights.at[:, ts, hs, ws].add(mask)
        mx.eval(acc, weights)
    return acc / mx.maximum(weights, 1e-8)


def decode_video(
    latent: mx.array,
    video_decoder: Callable[..., mx.array],
    tiling_config: TilingConfig | None = None,
    generator: Callable[..., mx.array] | None = None,
    group: mx.distributed.Group | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> Iterator[mx.array]:
    """Decode the first item of ``latent`` (B, F', H', W', C) to uint8 frame chunks (frames, H, W, 3).

    Pixels map as ``((x + 1) / 2).clip(0, 1) · 255`` truncated, as the reference's ``decode_video``; without a
    tiling the whole video is one chunk (one tile for ``on_tile``). ``group``: the tiles are spread over its ranks
    (``tiled_decode``).
    """
    if tiling_config is None:
        chunks: Iterator[mx.array] = _whole(video_decoder, latent, generator, on_tile)
    elif group is not None and group.size() > 1:
        chunks = video_decoder.tiled_decode(latent, tiling_config, generator=generator, group=group, on_tile=on_tile)
    else:
        chunks = video_decoder.tiled_decode(latent, tiling_config, generator=generator, on_tile=on_tile)
    for chunk in chunks:
        yield (mx.clip((chunk[0] + 1.0) / 2.0, 0.0, 1.0) * 255.0).astype(mx.uint8)


def _whole(
    video_decoder: Callable[..., mx.array],
    latent: mx.array,
    generator: Callable[..., mx.array] | None,
    on_tile: Callable[[int, int], None] | None,
) -> Iterator[mx.array]:
    """The untiled decode as one chunk, reported as one tile."""
    if on_tile is not None:
        on_tile(0, 1)
    video = video_decoder(latent, generator=generator)
    mx.eval(video)
    if on_tile is not None:
        on_tile(1, 1)
    yield video
