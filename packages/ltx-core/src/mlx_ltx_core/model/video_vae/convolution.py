"""Causal / non-causal 3-D convolution with frame-replication temporal padding (ports model/video_vae/convolution.py).

MLX's CPU convolution unrolls its input (im2col, 27x the input for a 3x3x3 kernel), so ``conv3d_frames`` runs
the convolution on slabs of output frames whose unrolled input stays under ``CONV_CHUNK_BYTES``. Each output
value is the same dot product either way; only the peak memory changes.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

PADDING_MODES = ("zeros", "reflect")
# Upper bound of one convolution slab's unrolled input (bytes); see docs in the module docstring.
CONV_CHUNK_BYTES = 256 * 1024**2


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
) -> mx.array:
    """Stride-1 3-D convolution of ``x`` (B, F, H, W, C) with ``weight`` (O, kT, kH, kW, C), same spatial size.

    ``time_pad`` frames are added before/after: copies of the edge frame (``replicate_time``) or zeros; H and W
    are padded by ``k // 2`` with zeros or by reflection. Output frames: ``F + sum(time_pad) − kT + 1``.
    """
    _, kt, kh, kw, cin = weight.shape
    b, f, h, w, _ = x.shape
    pad = kh // 2
    conv_pad = (0, pad, pad) if spatial_padding_mode == "zeros" else (0, 0, 0)
    n_out = f + time_pad[0] + time_pad[1] - kt + 1
    budget = CONV_CHUNK_BYTES if max_chunk_bytes is None else max_chunk_bytes
    per_frame = b * h * w * kt * kh * kw * cin * x.dtype.size
    step = max(1, min(n_out, budget // max(per_frame, 1)))
    outs = []
    for t0 in range(0, n_out, step):
        t1 = min(t0 + step, n_out)
        chunk = _frames(x, t0 - time_pad[0], t1 + kt - 1 - time_pad[0], replicate_time)
        if spatial_padding_mode == "reflect":
            chunk = _reflect_hw(chunk, pad)
        y = mx.conv3d(chunk, weight, padding=conv_pad)
        outs.append(y if bias is None else y + bias)
    return outs[0] if len(outs) == 1 else mx.concatenate(outs, axis=1)


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

    def __call__(self, x: mx.array, causal: bool = True) -> mx.array:
        """(B, F, H, W, Cin) -> (B, F, H, W, Cout)."""
        k = self.time_kernel_size - 1
        time_pad = (k, 0) if causal else (k // 2, k // 2)
        return conv3d_frames(x, self.conv.weight, self.conv.bias, time_pad, True, self.spatial_padding_mode)


def same_conv3d(conv: nn.Conv3d, x: mx.array) -> mx.array:
    """``conv`` (3x3x3, stride 1) with zero padding 1 on every axis, as torch ``Conv3d(padding=1)``, in slabs."""
    pad = conv.weight.shape[1] // 2
    return conv3d_frames(x, conv.weight, conv.get("bias"), (pad, pad), False, "zeros")
