"""Causal / non-causal 3-D convolution with frame-replication temporal padding (ports model/video_vae/convolution.py).

MLX's CPU convolution unrolls its input (im2col, 27x the input for a 3x3x3 kernel), and MLX allocates the
buffers of queued operations before they run, so a lazy graph of several large convolutions holds all their
unrolled inputs at once. ``conv3d_frames`` therefore runs a large convolution on slabs of output frames whose
unrolled input stays under ``CONV_CHUNK_BYTES`` and evaluates each slab before building the next. Each output
value is the same dot product either way; only the peak memory changes.
"""

from __future__ import annotations

from collections.abc import Callable

import mlx.core as mx
import mlx.nn as nn

PADDING_MODES = ("zeros", "reflect")
# Largest unrolled input of one slab (bytes; one frame is the smallest slab), and the unrolled size above which
# a convolution is evaluated eagerly, slab by slab. See the module docstring.
CONV_CHUNK_BYTES = 16 * 1024**2
EAGER_BYTES = 8 * 1024**2


def _frames(x: mx.array, start: int, stop: int, replicate: bool) -> mx.array:
    """Frames ``start:stop`` of ``x`` (B, F, H, W, C) where out-of-range indices are edge copies or zeros."""
    n = x.shape[1]
    lo, hi = max(start, 0), min(stop, n)
    parts = []
    if start < 0:
        edge = x[:, :1] if replicate else mx.zeros_like(x[:, :1])
        parts.append(mx.repeat(edge, -start, axis=1))
    parts.append(x[:, lo:hi])
    if stop > n:
        edge = x[:, -1:] if replicate else mx.zeros_like(x[:, -1:])
        parts.append(mx.repeat(edge, stop - n, axis=1))
    return parts[0] if len(parts) == 1 else mx.concatenate(parts, axis=1)


def _reflect_hw(x: mx.array, pad: int) -> mx.array:
    """Reflect-pad H and W by ``pad`` (torch ``padding_mode="reflect"``: the edge row itself is not repeated)."""
    top = [x[:, :, i : i + 1] for i in range(pad, 0, -1)]
    bottom = [x[:, :, -i - 1 : -i] for i in range(1, pad + 1)]
    x = mx.concatenate([*top, x, *bottom], axis=2)
    left = [x[:, :, :, i : i + 1] for i in range(pad, 0, -1)]
    right = [x[:, :, :, -i - 1 : -i] for i in range(1, pad + 1)]
    return mx.concatenate([*left, x, *right], axis=3)


def conv3d_frames(
    x: mx.array,
    weight: mx.array,
    bias: mx.array | None,
    time_pad: tuple[int, int],
    replicate_time: bool,
    spatial_padding_mode: str = "zeros",
    max_chunk_bytes: int | None = None,
    post: Callable[[mx.array], mx.array] | None = None,
) -> mx.array:
    """Stride-1 3-D convolution of ``x`` (B, F, H, W, C) with ``weight`` (O, kT, kH, kW, C), same spatial size.

    ``time_pad`` frames are added before/after: copies of the edge frame (``replicate_time``) or zeros; H and W
    are padded by ``k // 2`` with zeros or by reflection. Output frames: ``F + sum(time_pad) − kT + 1``.
    ``post`` (e.g. a depth-to-space) is applied to each slab's output, so its result is built slab by slab.
    """
    _, kt, kh, kw, cin = weight.shape
    b, f, h, w, _ = x.shape
    pad = kh // 2
    n_out = f + time_pad[0] + time_pad[1] - kt + 1
    per_frame = b * h * w * kt * kh * kw * cin * x.dtype.size
    budget = CONV_CHUNK_BYTES if max_chunk_bytes is None else max_chunk_bytes
    step = max(1, min(n_out, budget // max(per_frame, 1)))

    def slab(t0: int, t1: int) -> mx.array:
        chunk = _frames(x, t0 - time_pad[0], t1 + kt - 1 - time_pad[0], replicate_time)
        if spatial_padding_mode == "reflect":
            chunk = _reflect_hw(chunk, pad)
        y = mx.conv3d(chunk, weight, padding=(0, pad, pad) if spatial_padding_mode == "zeros" else (0, 0, 0))
        y = y if bias is None else y + bias
        return y if post is None else post(y)

    if per_frame * n_out <= EAGER_BYTES and max_chunk_bytes is None:
        return slab(0, n_out)  # small: one lazy convolution
    out = None
    for t0 in range(0, n_out, step):
        t1 = min(t0 + step, n_out)
        y = slab(t0, t1)
        if out is None:  # written in place slab by slab: no concatenation copy
            scale = y.shape[1] // (t1 - t0)
            out = mx.zeros((y.shape[0], n_out * scale, *y.shape[2:]), dtype=y.dtype)
        out[:, t0 * scale : t1 * scale] = y
        mx.eval(out)
    assert out is not None  # n_out > 0: at least one slab
    return out


class CausalConv3d(nn.Module):
    """3x3x3 convolution whose temporal padding replicates frames: the first one twice in front (``causal=True``),
    or the first in front and the last behind (``causal=False``). Keys ``conv.weight`` / ``conv.bias``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, spatial_padding_mode: str = "zeros"):
        super().__init__()
        if spatial_padding_mode not in PADDING_MODES:
            raise ValueError(f"spatial_padding_mode={spatial_padding_mode!r} must be one of {PADDING_MODES}")
        self.time_kernel_size = kernel_size
        self.spatial_padding_mode = spatial_padding_mode
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size)

    def __call__(
        self, x: mx.array, causal: bool = True, post: Callable[[mx.array], mx.array] | None = None
    ) -> mx.array:
        """(B, F, H, W, Cin) -> (B, F, H, W, Cout), then ``post`` (applied slab by slab, see ``conv3d_frames``)."""
        k = self.time_kernel_size - 1
        time_pad = (k, 0) if causal else (k // 2, k // 2)
        return conv3d_frames(x, self.conv.weight, self.conv.bias, time_pad, True, self.spatial_padding_mode, post=post)


def same_conv3d(conv: nn.Conv3d, x: mx.array) -> mx.array:
    """``conv`` (3x3x3, stride 1) with zero padding 1 on every axis, as torch ``Conv3d(padding=1)``, in slabs."""
    pad = conv.weight.shape[1] // 2
    return conv3d_frames(x, conv.weight, conv.get("bias"), (pad, pad), False, "zeros")
