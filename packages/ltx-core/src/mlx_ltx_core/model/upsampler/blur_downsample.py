"""Anti-aliased strided downsampling with a fixed 5x5 binomial kernel (ports model/upsampler/blur_downsample.py)."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn


class BlurDownsample(nn.Module):
    """Depthwise ``[1,4,6,4,1]ᵀ[1,4,6,4,1]/256`` blur with stride ``stride`` and padding 2 on (N, H, W, C) frames.

    The kernel is the checkpoint buffer ``kernel`` (1, k, k, 1); stride 1 is the identity.
    """

    def __init__(self, dims: int, stride: int, kernel_size: int = 5):
        super().__init__()
        if dims not in (2, 3) or stride < 1 or kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"BlurDownsample: dims={dims}, stride={stride}, kernel_size={kernel_size} unsupported")
        self.dims = dims
        self.stride = stride
        self.kernel_size = kernel_size
        k = mx.array([math.comb(kernel_size - 1, i) for i in range(kernel_size)], dtype=mx.float32)
        k2d = k[:, None] * k[None, :]
        self.kernel = (k2d / k2d.sum())[None, :, :, None]

    def __call__(self, x: mx.array) -> mx.array:
        """(N, H, W, C) -> (N, ⌊(H−1)/s⌋+1, ⌊(W−1)/s⌋+1, C)."""
        if self.stride == 1:
            return x
        c = x.shape[-1]
        weight = mx.broadcast_to(self.kernel.astype(x.dtype), (c, self.kernel_size, self.kernel_size, 1))
        return mx.conv2d(x, weight, stride=self.stride, padding=self.kernel_size // 2, groups=c)
