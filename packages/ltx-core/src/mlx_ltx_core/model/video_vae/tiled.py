"""Tiled decoding as a generator of finished frame chunks, and tiled encoding (ports ``VideoDecoder.tiled_decode``,
``VideoEncoder.tiled_encode`` and ``get_video_chunks_number`` of video_vae/video_vae.py).

Decoding groups the tiles by their output frame interval. Each group is accumulated (``Σ tile·mask``, ``Σ mask``)
into a buffer spanning all pixels of its frames, one evaluated tile at a time; the frames that no later group
touches are then normalised and yielded, and only the overlap with the next group is carried over. The chunks
(count, sizes and values) are the reference's, which yields the same frames one group later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import mlx.core as mx

from mlx_ltx_core.model.video_vae.tiling import (
    SPACE_SCALE,
    TIME_SCALE,
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

logger = logging.getLogger(__name__)
MIN_ENCODE_OVERLAP_PIXELS, MIN_ENCODE_OVERLAP_FRAMES = 64, 16  # the reference raises smaller overlaps to these


def prepare_tiles_for_decoding(latent_shape: tuple[int, int, int], tiling: TilingConfig | None) -> list[Tile]:
    """Tiles of a latent with (F', H', W') = ``latent_shape``; spatial tile sizes follow the aspect ratio.

    Without a temporal config all frames form one temporal tile (the reference fails there; see docs/format.md).
    """
    f, h, w = latent_shape
    splits, mappings = [whole, whole, whole], [unmapped, unmapped, unmapped]
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
    decode: Callable[[mx.array], mx.array], latent: mx.array, tiling: TilingConfig | None
) -> Iterator[mx.array]:
    """Yield the decoded video (B, F, H, W, 3) of ``latent`` (B, F', H', W', C) as consecutive frame chunks.

    ``decode`` maps a latent tile to its video tile. Memory: one temporal group's sum and weight buffers (all
    pixels of its frames), the overlap carried from the previous group, and one tile's decode.
    """
    b, f, h, w, _ = latent.shape
    groups = group_tiles_by_temporal_slice(prepare_tiles_for_decoding((f, h, w), tiling))
    carry: tuple[mx.array, mx.array] | None = None
    for k, group in enumerate(groups):
        frames = group[0].out_coords[0]
        n = frames.stop - frames.start
        acc = mx.zeros((b, n, h * SPACE_SCALE, w * SPACE_SCALE, 3), dtype=latent.dtype)
        weights = mx.zeros((1, n, h * SPACE_SCALE, w * SPACE_SCALE, 1), dtype=latent.dtype)
        for tile in group:
            acc, weights = _accumulate(acc, weights, decode(latent[:, tile.in_coords[0], *tile.in_coords[1:]]), tile)
        if carry is not None:
            m = carry[0].shape[1]
            acc[:, :m] = carry[0] + acc[:, :m]
            weights[:, :m] = carry[1] + weights[:, :m]
        done = (groups[k + 1][0].out_coords[0].start if k + 1 < len(groups) else frames.stop) - frames.start
        chunk = acc[:, :done] / mx.maximum(weights[:, :done], 1e-8)
        carry = (acc[:, done:], weights[:, done:]) if k + 1 < len(groups) else None
        mx.eval(chunk, *(carry or ()))
        del acc, weights
        yield chunk


def _accumulate(acc: mx.array, weights: mx.array, decoded: mx.array, tile: Tile) -> tuple[mx.array, mx.array]:
    mask = tile.blend_mask(acc.dtype)
    n = min(decoded.shape[1], acc.shape[1])  # the reference clips a tile to its group's frames
    mask = mask[:, :n] if mask.shape[1] > 1 else mask
    hs, ws = tile.out_coords[1], tile.out_coords[2]
    acc[:, :n, hs, ws] = acc[:, :n, hs, ws] + decoded[:, :n] * mask
    weights[:, :n, hs, ws] = weights[:, :n, hs, ws] + mask
    mx.eval(acc, weights)
    return acc, weights


def get_video_chunks_number(num_frames: int, tiling: TilingConfig | None = None) -> int:
    """How many chunks a tiled decode of ``num_frames`` frames yields (the reference's formula)."""
    if tiling is None or tiling.temporal_config is None:
        return 1
    cfg = tiling.temporal_config
    stride = cfg.tile_size_in_frames - cfg.tile_overlap_in_frames
    return (num_frames - 1 + stride - 1) // stride


def prepare_tiles_for_encoding(video_shape: tuple[int, int, int], tiling: TilingConfig | None) -> list[Tile]:
    """Tiles of a video with (F, H, W) = ``video_shape``; overlaps below 64 px / 16 frames are raised to those."""
    splits, mappings = [whole, whole, whole], [unmapped, unmapped, unmapped]
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
    shape = (b, (f - 1) // TIME_SCALE + 1, h // SPACE_SCALE, w // SPACE_SCALE, latent_channels)
    acc = mx.zeros(shape, dtype=video.dtype)
    weights = mx.zeros((1, *shape[1:4], 1), dtype=video.dtype)
    for tile in prepare_tiles_for_encoding((f, h, w), tiling):
        latent = encode(video[:, tile.in_coords[0], *tile.in_coords[1:]])
        mask = tile.blend_mask(acc.dtype)
        ts, hs, ws = tile.out_coords
        acc[:, ts, hs, ws] = acc[:, ts, hs, ws] + latent * mask
        weights[:, ts, hs, ws] = weights[:, ts, hs, ws] + mask
        mx.eval(acc, weights)
    return acc / mx.maximum(weights, 1e-8)


def decode_video(
    latent: mx.array,
    video_decoder: Callable[..., mx.array],
    tiling_config: TilingConfig | None = None,
    generator: Callable[..., mx.array] | None = None,
) -> Iterator[mx.array]:
    """Decode the first item of ``latent`` (B, F', H', W', C) to uint8 frame chunks (frames, H, W, 3).

    Pixels map as ``((x + 1) / 2).clip(0, 1) · 255`` truncated, as the reference's ``decode_video``; without a
    tiling the whole video is one chunk.
    """
    if tiling_config is None:
        chunks: Iterator[mx.array] = iter([video_decoder(latent, generator=generator)])
    else:
        chunks = video_decoder.tiled_decode(latent, tiling_config, generator=generator)
    for chunk in chunks:
        yield (mx.clip((chunk[0] + 1.0) / 2.0, 0.0, 1.0) * 255.0).astype(mx.uint8)
