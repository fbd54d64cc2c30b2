"""Tiling presets and the decode peak-memory estimate behind ``auto`` (no reference counterpart).

The estimate walks the decoder's stages with their activation sizes and takes the largest working set of one
stage: a resnet convolution holds the block input, its normalised input, the time-padded copy, the output and
the unrolled (im2col) slab of ``conv3d_frames``; an upsampling block also holds its depth-to-space copies and
residual; ``conv_out`` fills the unpatchified video slab by slab. A tiled decode adds one temporal group's blend sum
and the overlap carried into it (the finished chunk is a view of that sum). The coefficients were fitted against
``mx.get_peak_memory`` with benchmarks/vae_decode.py (which prints estimate and measurement side by side).
"""

from __future__ import annotations

import os

import mlx.core as mx

from mlx_ltx_core.model.video_vae import convolution
from mlx_ltx_core.model.video_vae.args import DECODER_BLOCKS, VideoDecoderArgs
from mlx_ltx_core.model.video_vae.tiled import group_tiles_by_temporal_slice, prepare_tiles_for_decoding
from mlx_ltx_core.model.video_vae.tiling import SpatialTilingConfig, TemporalTilingConfig, TilingConfig

TILING_PRESETS: dict[str, TilingConfig | None] = {
    "none": None,
    "default": TilingConfig(SpatialTilingConfig(512, 64), TemporalTilingConfig(64, 24)),
    "aggressive": TilingConfig(SpatialTilingConfig(256, 64), TemporalTilingConfig(32, 16)),
    "conservative": TilingConfig(SpatialTilingConfig(768, 64), TemporalTilingConfig(96, 24)),
    "spatial": TilingConfig(SpatialTilingConfig(512, 64), None),
    "temporal": TilingConfig(None, TemporalTilingConfig(64, 24)),
}
AUTO_ORDER = ("none", "conservative", "default", "aggressive")  # least seams first
# Activation-sized arrays alive beside a stage's input and unrolled slab: in a resnet block (norm, SiLU, padded
# copy, output, queued elementwise ops), per output of an upsampling block (conv output, depth-to-space,
# residual), and beside the video that conv_out fills. Fitted on per-stage measurements (decoder_base_channels
# 4 to 16); benchmarks/vae_decode.py prints estimate beside measurement.
RES_LIVE, UPSAMPLE_LIVE, OUT_LIVE = 7.0, 3.5, 5.0
QUEUE_SLACK = 8 * convolution.EAGER_BYTES  # small convolutions run lazily, several queued at once


def _slab(act: float, frames: int) -> float:
    """Bytes of the unrolled input ``conv3d_frames`` holds for an activation of ``act`` bytes."""
    total = 27 * act
    if total <= convolution.EAGER_BYTES:
        return 2 * total  # lazy: both convolutions of a resnet block may be queued at once
    per_frame = total / max(frames, 1)
    return max(1, min(frames, int(convolution.CONV_CHUNK_BYTES // per_frame))) * per_frame


def forward_peak_bytes(args: VideoDecoderArgs, latent_shape: tuple[int, ...], itemsize: int = 4) -> int:
    """Estimated peak working memory (bytes) of one untiled decode of ``latent_shape`` (B, F', H', W', C)."""
    b, f, h, w = latent_shape[:4]
    width = args.decoder_base_channels * 8
    act = b * f * h * w * width * itemsize
    peak = (1 + RES_LIVE) * act + _slab(b * f * h * w * args.latent_channels * itemsize, f)
    for name, params in args.blocks:
        if name == "res_x":
            peak = max(peak, (1 + RES_LIVE) * act + _slab(act, f))
            continue
        st, ss, _ = DECODER_BLOCKS[name]
        act_in, slab_in = act, _slab(act, f)
        f, h, w = f * st - (st - 1), h * ss, w * ss
        width //= params.get("multiplier", 1)
        act = b * f * h * w * width * itemsize
        peak = max(peak, act_in + UPSAMPLE_LIVE * act + slab_in)
    video = b * f * h * w * args.out_channels * args.patch_size**2 * itemsize
    # conv_out writes the unpatchified video slab by slab while its queued input stages are alive.
    return int(max(peak, OUT_LIVE * act + _slab(act, f) + video) + QUEUE_SLACK)


def estimate_decode_peak_bytes(
    args: VideoDecoderArgs, latent_shape: tuple[int, ...], tiling: TilingConfig | None, itemsize: int = 4
) -> int:
    """Estimated peak working memory (bytes, beyond weights and input) of decoding ``latent_shape`` with ``tiling``.

    Untiled: ``forward_peak_bytes``. Tiled: the largest temporal group's blend sum (all pixels of its frames) and
    the overlap carried into it, plus the larger of the biggest tile's forward and the normalisation weights.
    """
    if tiling is None:
        return forward_peak_bytes(args, latent_shape, itemsize)
    b, f, h, w, c = latent_shape
    tiles = prepare_tiles_for_decoding((f, h, w), tiling)
    shapes = {tuple(s.stop - s.start for s in t.in_coords) for t in tiles}
    tile_peak = max(forward_peak_bytes(args, (b, *s, c), itemsize) for s in shapes)
    frame = h * w * 32 * 32 * itemsize  # one frame, one channel
    groups = group_tiles_by_temporal_slice(tiles)
    starts = [g[0].out_coords[0].start for g in groups]
    stops = [g[0].out_coords[0].stop for g in groups]
    group = max(e - s for s, e in zip(starts, stops, strict=True))
    carry = max([stops[i] - starts[i + 1] for i in range(len(groups) - 1)], default=0)
    held = (3 * b * (group + carry)) * frame
    return int(held + max(tile_peak, 2 * group * frame))


def memory_budget_bytes() -> int:
    """Half of the device's recommended working set (Apple GPUs) or of the physical RAM."""
    info = mx.device_info() if hasattr(mx, "device_info") else {}
    total = info.get("max_recommended_working_set_size") or info.get("memory_size")
    if not total:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(total) // 2


def tiling_for(
    preset: str,
    args: VideoDecoderArgs | None = None,
    latent_shape: tuple[int, ...] | None = None,
    memory_budget: int | None = None,
    itemsize: int = 4,
) -> TilingConfig | None:
    """The ``TilingConfig`` of a preset name; ``auto`` picks the first of none / conservative / default / aggressive
    whose ``estimate_decode_peak_bytes`` fits ``memory_budget`` (default ``memory_budget_bytes()``), else
    aggressive. ``auto`` needs the decoder's ``args`` and the ``latent_shape``."""
    if preset in TILING_PRESETS:
        return TILING_PRESETS[preset]
    if preset != "auto":
        raise ValueError(f"tiling preset {preset!r} is unknown; choose auto, {', '.join(TILING_PRESETS)}")
    if args is None or latent_shape is None:
        raise ValueError("tiling preset 'auto' needs the decoder args and the latent shape")
    budget = memory_budget_bytes() if memory_budget is None else memory_budget
    for name in AUTO_ORDER:
        if estimate_decode_peak_bytes(args, latent_shape, TILING_PRESETS[name], itemsize) <= budget:
            return TILING_PRESETS[name]
    return TILING_PRESETS[AUTO_ORDER[-1]]
