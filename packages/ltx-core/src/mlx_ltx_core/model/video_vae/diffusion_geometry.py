"""Shape rules of the 2.5 diffusion video decoder (ports the geometry half of video_vae/diffusion_tiling.py).

Channels-last: a latent or feature is (B, T, H, W, C), so T/H/W are axes 1/2/3. Pads record (before, after).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import mlx.core as mx

Stride = tuple[int, int, int]
Strides = Sequence[Sequence[int]]


class AxisPad(NamedTuple):
    before: int
    after: int


def resize_axis(
    x: mx.array, axis: int, size: int, mode: Literal["repeat_last", "symmetric"]
) -> tuple[mx.array, AxisPad]:
    """Pad (edge copies) or crop ``axis`` to ``size``: "repeat_last" at the end only, "symmetric" with
    ``before = need // 2`` and the rest after."""
    length = x.shape[axis]
    if length == size:
        return x, AxisPad(0, 0)
    need = abs(size - length)
    before = 0 if mode == "repeat_last" else need // 2
    after = need - before
    if length > size:
        return mx.take(x, mx.arange(before, before + size), axis=axis), AxisPad(before, after)
    index = mx.concatenate([mx.zeros((before,), mx.int32), mx.arange(length), mx.full((after,), length - 1)])
    return mx.take(x, index.astype(mx.int32), axis=axis), AxisPad(before, after)


def all_stages_min_tile_size(
    stage_kernels: Sequence[Sequence[int]], upsamples: Sequence[tuple[Stride, int]], stage5_kernel: Sequence[int]
) -> tuple[int, int, int]:
    """Latent (T, H, W) floor so every stage's neighborhood attention sees each axis >= its kernel."""
    mins, cum = [1, 1, 1], [1, 1, 1]
    for i, (stride, _) in enumerate(upsamples):
        mins = [max(m, -(-stage_kernels[i][a] // cum[a])) for a, m in enumerate(mins)]
        cum = [c * s for c, s in zip(cum, stride, strict=True)]
    return tuple(max(m, -(-stage5_kernel[a] // cum[a])) for a, m in enumerate(mins))  # type: ignore[return-value]


def ensure_min_latent_shape(latent: mx.array, floor: Sequence[int]) -> tuple[mx.array, tuple[AxisPad, ...]]:
    """Pad a latent up to ``floor``: T by repeating the last frame, H and W by symmetric edge copies."""
    pads = []
    for axis, mode in ((1, "repeat_last"), (2, "symmetric"), (3, "symmetric")):
        if latent.shape[axis] < floor[axis - 1]:
            latent, pad = resize_axis(latent, axis, floor[axis - 1], mode)  # type: ignore[arg-type]
        else:
            pad = AxisPad(0, 0)
        pads.append(pad)
    return latent, tuple(pads)


def stage4_thw(strides: Strides, t: int, h: int, w: int, drop_leading_frame: bool = True) -> Stride:
    """Stage-4 input (T, H, W) after the first three upsamples (a temporal x2 drops its duplicate first frame)."""
    for st, sh, sw in strides[:3]:
        t, h, w = t * st - (1 if st == 2 and drop_leading_frame else 0), h * sh, w * sw
    return t, h, w


def stage5_pixel_shape(
    s4: Sequence[int],
    stride: Sequence[int],
    patch_size: int,
    kernel_t: int,
    drop_leading_frame: bool,
    pad_trailing: bool,
) -> Stride:
    """Pixel (F, H, W) of the stage-5 canvas for a stage-4 extent."""
    frames = s4[0] * stride[0] - (1 if drop_leading_frame and stride[0] == 2 else 0)
    if pad_trailing:
        frames = max(frames, kernel_t)
    return frames, s4[1] * stride[1] * patch_size, s4[2] * stride[2] * patch_size


def crop_trailing_ghost(context: mx.array, ghost_latent_frames: int, time_scale: int, kernel_t: int) -> mx.array:
    """Drop the ghost frames (``ghost_latent_frames · time_scale``) from the end, keeping at least ``kernel_t``."""
    if ghost_latent_frames <= 0:
        return context
    t = context.shape[1]
    keep = min(t, max(max(t - ghost_latent_frames * time_scale, 1), kernel_t))
    return resize_axis(context, 1, keep, "repeat_last")[0]


def compute_tile_min_size(stage4_kernel: Sequence[int], stage5_kernel: Sequence[int], stride: Stride) -> Stride:
    """Stage-4-input tile floor so stages 4 and 5 each see >= their kernel."""
    return tuple(max(stage4_kernel[a], -(-stage5_kernel[a] // stride[a])) for a in range(3))  # type: ignore[return-value]


def compute_tile_halos(
    stage4_kernel: Sequence[int], stage4_depth: int, stage5_kernel: Sequence[int], stage5_depth: int, stride: Stride
) -> tuple[Stride, Stride]:
    """One-sided receptive halos (stage-4-input cells) of stage 4 and of stage 5."""
    halo4 = tuple(stage4_depth * (stage4_kernel[a] // 2) for a in range(3))
    halo5 = tuple(-(-(stage5_depth * (stage5_kernel[a] // 2)) // stride[a]) for a in range(3))
    return halo4, halo5  # type: ignore[return-value]


def pixel_shuffle(x: mx.array, stride: Stride) -> mx.array:
    """``b t h w (c p1 p2 p3) -> b (t p1) (h p2) (w p3) c``."""
    b, t, h, w, cp = x.shape
    p1, p2, p3 = stride
    c = cp // math.prod(stride)
    x = x.reshape(b, t, h, w, c, p1, p2, p3).transpose(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, t * p1, h * p2, w * p3, c)
