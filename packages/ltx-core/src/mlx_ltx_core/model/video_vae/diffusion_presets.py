"""Peak-memory estimate and ``auto`` tiling of the 2.5 diffusion decoder (ports the recommendation half of
video_vae/diffusion_tiling.py, ``recommended_decode_tiling_config``, at v1.2.0).

The reference sizes tiles from free CUDA memory and raises everywhere else (free memory reads 0 off CUDA). Here the
budget is ``memory_budget_bytes()`` (half the Apple GPU's recommended working set, or of physical RAM), so ``auto``
works on every MLX device. The cost model is the reference's ``chunked_eager`` one: resident stage-4 features +
a blend buffer of 2 tile lengths of full frames + stage-5 tokens × channels × element size × 5.
"""

from __future__ import annotations

import math

from mlx_ltx_core.model.video_vae import diffusion_geometry as geo
from mlx_ltx_core.model.video_vae.diffusion_decoder import CHUNKED_EAGER_W_CHUNKS, DiffusionVideoDecoder
from mlx_ltx_core.model.video_vae.diffusion_tiled import (
    DimensionSizeConfig,
    TileSizeConfig,
    recommended_overlaps,
    split_by_size,
)
from mlx_ltx_core.model.video_vae.na_blocks import mlp_hidden
from mlx_ltx_core.model.video_vae.neighborhood_attention import na3d_blocked_peak_bytes
from mlx_ltx_core.model.video_vae.presets import memory_budget_bytes

STAGE5_COEF = 5.0  # chunked_eager working-set multiplicity of the stage-5 activations
SAFETY_BYTES = 1 << 30
MIN_MODEL_BYTES = 1 << 30


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def stage4_feature_bytes(dec: DiffusionVideoDecoder, frames: int, height: int, width: int, itemsize: int) -> int:
    """Stages 0-2 output kept for the whole decode: (T4, H4, W4, stage-3 channels) of the ghost-padded latent."""
    latent = ((frames - 1) // 8 + 1 + dec.ghost_latent_frames, height // 32, width // 32)
    t4, h4, w4 = geo.stage4_thw([u.stride for u in dec.upsamples], *latent)
    return t4 * h4 * w4 * dec.args.stage_channels[3] * itemsize


def estimate_peak_bytes(
    dec: DiffusionVideoDecoder,
    frames: int,
    height: int,
    width: int,
    tile: tuple[int, int, int] | None = None,
    itemsize: int = 2,
) -> int:
    """Activation peak (bytes) of decoding a ``frames``×``height``×``width`` video with pixel tiles ``tile``
    (None: untiled), weights excluded: the reference's terms (resident stage-4 features, the blend buffer, the stage-5
    working set) plus the largest neighborhood-attention working set of the blocked-dense path, which the reference
    (fused NATTEN kernels) does not have."""
    t, h, w = (
        (min(a, b) for a, b in zip(tile, (frames, height, width), strict=True)) if tile else (frames, height, width)
    )
    tokens = t * max(1, h // dec.patch_size) * max(1, w // dec.patch_size)
    accumulator = 2 * min(t, frames) * height * width * dec.args.out_channels * itemsize
    stage5 = tokens * dec.args.stage5_width * itemsize * STAGE5_COEF
    na = na_peak_bytes(dec, frames, height, width, tile, itemsize)
    return int(stage4_feature_bytes(dec, frames, height, width, itemsize) + accumulator + stage5 + na)


def na_peak_bytes(
    dec: DiffusionVideoDecoder,
    frames: int,
    height: int,
    width: int,
    tile: tuple[int, int, int] | None = None,
    itemsize: int = 2,
    w_chunks: int = CHUNKED_EAGER_W_CHUNKS,
) -> int:
    """The largest block working set of the decode on the blocked-dense NA path: per stage, the attention (its
    ``na3d_blocked`` working set with q/k/v, the stage-5 blocks on W slabs of ``w_chunks`` with halos) or the SwiGLU
    (gate, its SiLU, up, product), plus the block's input and residual. Stages 0-2 run on the whole (floor- and
    ghost-padded) latent, stage 4 and stage 5 on one tile."""
    a = dec.args
    latent = ((frames - 1) // 8 + 1 + dec.ghost_latent_frames, max(1, height // 32), max(1, width // 32))
    dims = [tuple(max(n, f) for n, f in zip(latent, dec.stage_min_tile_sizes, strict=True))]
    for st, sh, sw in (u.stride for u in dec.upsamples):
        t, h, w = dims[-1]
        dims.append((t * st - (1 if st == 2 else 0), h * sh, w * sw))
    if tile is not None:  # stage 5 runs on pixel tiles / patch; stage 4 on the same tile at its resolution
        stride = dec.upsamples[3].stride
        cells = (tile[0], tile[1] // dec.patch_size, tile[2] // dec.patch_size)
        s5 = tuple(min(d, n) for d, n in zip(dims[4], cells, strict=True))
        dims[3] = tuple(min(d, -(-n // s)) for d, n, s in zip(dims[3], s5, stride, strict=True))
        dims[4] = s5
    peak = 0
    for s, (d, c) in enumerate(zip(dims, [*a.stage_channels[:4], a.stage5_width], strict=True)):
        kernel = a.stage_kernels[s] if s < 4 else a.stage5_kernel
        na_dims = d if s < 4 else (d[0], d[1], min(d[2], -(-d[2] // w_chunks) + 2 * (kernel[2] // 2)))
        heads = max(1, c // a.head_dim)
        attention = na3d_blocked_peak_bytes((1, *na_dims, heads, a.head_dim), kernel, itemsize)
        attention += 3 * math.prod(na_dims) * c * itemsize
        swiglu = 4 * math.prod(d) * mlp_hidden(c) * itemsize
        peak = max(peak, max(attention, swiglu) + 2 * math.prod(d) * c * itemsize)
    return peak


def _candidates(length: int, overlap: int, minimum: int, step: int) -> list[tuple[int, int]]:
    """(tile size, tile count) for every legal size on the ``step`` grid (pixel units, as the reference counts)."""
    sizes = range(minimum, max(_round_up(length, step), minimum) + step, step)
    return [(size, len(split_by_size(length, size, overlap, 1))) for size in sizes if size > overlap]


def auto_tiling(
    dec: DiffusionVideoDecoder,
    frames: int,
    height: int,
    width: int,
    budget_bytes: int | None = None,
    model_bytes: int = 0,
    itemsize: int = 2,
) -> TileSizeConfig:
    """The reference's recommended tiling under a memory budget (default ``memory_budget_bytes()``): the legal tile
    sizes (multiples of lcm(stage-4 scale, 8/32/32), at least twice the overlaps) that fit, least overlap recompute
    first, then the largest volume; a candidate must also fit with this port's neighborhood-attention working set
    (``estimate_peak_bytes``). Raises ValueError naming the smallest tile when none fits."""
    budget = memory_budget_bytes() if budget_bytes is None else budget_bytes
    overlap_t, overlap_hw = recommended_overlaps(dec)
    st, sh, sw = dec.upsamples[3].stride
    scale = (st, sh * dec.patch_size, sw * dec.patch_size)
    steps = (math.lcm(scale[0], 8), math.lcm(scale[1], 32), math.lcm(scale[2], 32))
    floors = (16, 64, 64)
    overlaps = (overlap_t, overlap_hw, overlap_hw)
    mins = [
        _round_up(max(2 * scale[a], 2 * overlaps[a], dec.tile_min_sizes[a] * scale[a], floors[a]), steps[a])
        for a in range(3)
    ]
    usable = budget - max(model_bytes, MIN_MODEL_BYTES) - SAFETY_BYTES
    usable -= stage4_feature_bytes(dec, frames, height, width, itemsize)
    lengths = (frames, height, width)
    cands = [_candidates(lengths[a], overlaps[a], mins[a], steps[a]) for a in range(3)]
    fitting = []
    for tt, nt in cands[0]:
        acc = 2 * tt * height * width * dec.args.out_channels * itemsize
        if acc >= usable:
            continue
        max_tokens = (usable - acc) // max(1.0, dec.args.stage5_width * itemsize * STAGE5_COEF)
        for th, nh in cands[1]:
            for tw, nw in cands[2]:
                if tt * max(1, th // dec.patch_size) * max(1, tw // dec.patch_size) > max_tokens:
                    continue
                waste = nt * nh * nw * tt * th * tw / max(1, frames * height * width)
                fitting.append((waste, -tt * th * tw, nt * nh * nw, tt, th, tw))
    # The reference's order; the first whose blocked-NA working set fits too (the reference's kernels have none).
    room = usable + stage4_feature_bytes(dec, frames, height, width, itemsize)
    best = next(
        (k for k in sorted(fitting) if estimate_peak_bytes(dec, frames, height, width, k[3:], itemsize) <= room),
        None,
    )
    if best is None:
        raise ValueError(
            f"no diffusion-decoder tile fits {budget / 2**30:.1f} GiB: the smallest is {mins[0]} frames x "
            f"{mins[1]}x{mins[2]} px; decode a smaller video or free memory"
        )
    return TileSizeConfig(
        DimensionSizeConfig(best[3], overlap_t), DimensionSizeConfig(best[4], overlap_hw),
        DimensionSizeConfig(best[5], overlap_hw),
    )  # fmt: skip
