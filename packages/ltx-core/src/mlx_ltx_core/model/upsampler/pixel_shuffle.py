"""N-dimensional pixel shuffle over frames / H, W / both (ports model/upsampler/pixel_shuffle.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn


class PixelShuffleND(nn.Module):
    """Moves factors out of the channels: dims 1 ``(c p) -> frames·p``, 2 ``(c p1 p2) -> H·p1, W·p2``, 3 all three.

    Input (B, F, H, W, C) for dims 1 and 3, (N, H, W, C) for dims 2.
    """

    def __init__(self, dims: int, upscale_factors: tuple[int, ...] = (2, 2, 2)):
        super().__init__()
        if dims not in (1, 2, 3):
            raise ValueError(f"PixelShuffleND: dims={dims} must be 1, 2 or 3")
        self.dims = dims
        self.upscale_factors = upscale_factors

    def __call__(self, x: mx.array) -> mx.array:
        p = self.upscale_factors
        if self.dims == 1:
            b, f, h, w, cp = x.shape
            x = x.reshape(b, f, h, w, cp // p[0], p[0]).transpose(0, 1, 5, 2, 3, 4)
            return x.reshape(b, f * p[0], h, w, cp // p[0])
        if self.dims == 2:
            n, h, w, cp = x.shape
            c = cp // (p[0] * p[1])
            x = x.reshape(n, h, w, c, p[0], p[1]).transpose(0, 1, 4, 2, 5, 3)
            return x.reshape(n, h * p[0], w * p[1], c)
        b, f, h, w, cp = x.shape
        c = cp // (p[0] * p[1] * p[2])
        x = x.reshape(b, f, h, w, c, *p).transpose(0, 1, 5, 2, 6, 3, 7, 4)
        return x.reshape(b, f * p[0], h * p[1], w * p[2], c)
