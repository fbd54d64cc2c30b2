"""Residual block of the latent upsampler (ports model/upsampler/res_block.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.video_vae.convolution import same_conv3d


class ResBlock(nn.Module):
    """``silu(norm2(conv2(silu(norm1(conv1(x))))) + x)`` with zero-padded 3x3x3 convs and GroupNorm(32).

    The convs are called through ``same_conv3d`` (slabs of frames) to bound MLX's im2col memory.
    """

    def __init__(self, channels: int, mid_channels: int | None = None, dims: int = 3):
        super().__init__()
        if dims != 3:
            raise ValueError(f"ResBlock: dims={dims} is not supported (3)")
        mid_channels = channels if mid_channels is None else mid_channels
        self.conv1 = nn.Conv3d(channels, mid_channels, 3, padding=1)
        self.norm1 = nn.GroupNorm(32, mid_channels, pytorch_compatible=True)
        self.conv2 = nn.Conv3d(mid_channels, channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(32, channels, pytorch_compatible=True)

    def __call__(self, x: mx.array) -> mx.array:
        """(B, F, H, W, C) -> same."""
        h = nn.silu(self.norm1(same_conv3d(self.conv1, x)))
        return nn.silu(self.norm2(same_conv3d(self.conv2, h)) + x)
