"""Tiling presets and the decode peak-memory estimate behind ``auto`` (no reference counterpart).

The estimate walks the decoder's stages with their activation sizes and takes the largest working set of one
stage: a resnet convolution holds the block input, its normalised input, the time-padded copy, the output and
the unrolled (im2col) slab of ``conv3d_frames``; an upsampling block also holds its depth-to-space copies and
residual; ``conv_out`` fills the unpatchified video slab by slab. A tiled decode walks its tile plan (see
``estimate_decode_peak_bytes``). The coefficients were fitted against ``mx.get_peak_memory`` on CPU;
benchmarks/vae_estimate_grid.py checks them over a grid of LTX-2 / LTX-2.3 decoders, sizes and tilings (at real
width all points within ±20%; see docs/video_vae.md for the tiny decodes where lazily queued convolutions
dominate).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import mlx.core as mx

from mlx_ltx_core.model.video_vae import convolution
from mlx_ltx_core.model.video_vae.args import DECODER_BLOCKS, VideoDecoderArgs
from mlx_ltx_core.model.video_vae.tiled import group_tiles_by_temporal_slice, prepare_tiles_for_decoding
from mlx_ltx_core.model.video_vae.tiling import SpatialTilingConfig, TemporalTilingConfig, TilingConfig
from mlx_ltx_core.types import VIDEO_SCALE_FACTORS

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.video_vae import VideoDecoder

TILING_PRESETS: dict[str, TilingConfig | None] = {
    "none": None,
    "default": TilingConfig(SpatialTilingConfig(512, 64), TemporalTilingConfig(64, 24)),
    "aggressive": TilingConfig(SpatialTilingConfig(256, 64), TemporalTilingConfig(32, 16)),
    "conservative": TilingConfig(SpatialTilingConfig(768, 64), TemporalTilingConfig(96, 24)),
    "spatial": TilingConfig(SpatialTilingConfig(512, 64), None),
    "temporal": TilingConfig(None, TemporalTilingConfig(64, 24)),
}
AUTO_ORDER = ("none", "conservative", "default", "aggressive")  # least seams first
# Activation-sized arrays alive beside a stage's input and unrolled slab: in a resnet block (norm, SiLU, the
# slabs' outputs and their concatenation, the residual), per output of an upsampling block (conv output,
# depth-to-space, residual), and beside the video that conv_out fills. Fitted on per-stage measurements;
# benchmarks/vae_estimate_grid.py prints estimate beside measurement.
RES_LIVE, UPSAMPLE_LIVE, OUT_LIVE = 6.0, 3.5, 5.0
SPACE_PIXELS = VIDEO_SCALE_FACTORS.height * VIDEO_SCALE_FACTORS.width  # decoded pixels per latent position
QUEUE_SLACK = convolution.EAGER_BYTES  # small convolutions run lazily, queued beside the rest


def _slab(act: float, frames: int, reflect: bool) -> float:
    """Bytes ``conv3d_frames`` holds for one slab of an activation of ``act`` bytes: the unrolled input and the
    slab's input frames (two time-padding frames more; reflection padding adds two padded copies of them)."""
    total = 27 * act
    if total <= convolution.EAGER_BYTES:
        return 2 * total  # lazy: both convolutions of a resnet block may be queued at once
    frame = act / max(frames, 1)
    n = max(1, min(frames, int(convolution.CONV_CHUNK_BYTES // (27 * frame))))
    return n * 27 * frame + (3 if reflect else 1) * (n + 2) * frame


def forward_peak_bytes(args: VideoDecoderArgs, latent_shape: tuple[int, ...], itemsize: int = 4) -> int:
    """Estimated peak working memory (bytes) of one untiled decode of ``latent_shape`` (B, F', H', W', C)."""
    b, f, h, w = latent_shape[:4]
    reflect = args.spatial_padding_mode == "reflect"
    width = args.decoder_base_channels * 8
    act = b * f * h * w * width * itemsize
    peak = (1 + RES_LIVE) * act + _slab(b * f * h * w * args.latent_channels * itemsize, f, reflect)
    for name, params in args.blocks:
        if name == "res_x":
            peak = max(peak, (1 + RES_LIVE) * act + _slab(act, f, reflect))
            continue
        st, ss, _ = DECODER_BLOCKS[name]
        act_in, slab_in = act, _slab(act, f, reflect)
        f, h, w = f * st - (st - 1), h * ss, w * ss
        width //= params.get("multiplier", 1)
        act = b * f * h * w * width * itemsize
        peak = max(peak, act_in + UPSAMPLE_LIVE * act + slab_in)
    video = b * f * h * w * args.out_channels * args.patch_size**2 * itemsize
    # conv_out writes the unpatchified video slab by slab while its queued input stages are alive.
    return int(max(peak, OUT_LIVE * act + _slab(act, f, reflect) + video) + QUEUE_SLACK)


def estimate_decode_peak_bytes(
    args: VideoDecoderArgs, latent_shape: tuple[int, ...], tiling: TilingConfig | None, itemsize: int = 4
) -> int:
    """Estimated peak working memory (bytes, beyond weights and input) of decoding ``latent_shape`` with ``tiling``.

    Untiled: ``forward_peak_bytes``. Tiled, walking the tile plan as ``tiled_decode`` runs it, the largest of: a
    tile's forward beside the overlap carried from the previous temporal group and (from the group's second tile
    on) the group's blend sum; adding a tile into the sum (carry, sum, the decoded tile and its blend mask); the end
    of a group (sum, old and new carry, blend weights).
    """
    if tiling is None:
        return forward_peak_bytes(args, latent_shape, itemsize)
    b, f, h, w, c = latent_shape
    pixel = b * 3 * itemsize  # one decoded pixel, all batch samples
    frame = h * w * SPACE_PIXELS * pixel
    groups = group_tiles_by_temporal_slice(prepare_tiles_for_decoding((f, h, w), tiling))
    peak = carry = 0
    for k, group in enumerate(groups):
        start, stop = group[0].out_coords[0].start, group[0].out_coords[0].stop
        blend_sum = (stop - start) * frame
        for i, tile in enumerate(group):
            shape = tuple(s.stop - s.start for s in tile.in_coords)
            forward = forward_peak_bytes(args, (b, *shape, c), itemsize)
            _, ys, xs = tile.out_coords
            decoded = (stop - start) * (ys.stop - ys.start) * (xs.stop - xs.start) * pixel
            peak = max(peak, carry + (blend_sum if i else 0) + forward, carry + blend_sum + decoded * 4 // 3)
        done = (groups[k + 1][0].out_coords[0].start if k + 1 < len(groups) else stop) - start
        new_carry = (stop - start - done) * frame
        peak = max(peak, blend_sum + carry + new_carry + 2 * done * frame // 3)
        carry = new_carry
    return int(peak)


def measure_decode_peak_bytes(decoder: VideoDecoder, latent: mx.array, tiling: TilingConfig | None) -> int:
    """Measured peak (``mx.get_peak_memory``) of a decode above what is allocated before it: what
    ``estimate_decode_peak_bytes`` predicts. Tiled chunks are dropped as they come, as a video writer would."""
    mx.clear_cache()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    if tiling is None:
        mx.eval(decoder(latent))
    else:
        for chunk in decoder.tiled_decode(latent, tiling):
            del chunk
    return mx.get_peak_memory() - base


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
