"""Residual blocks (ports ltx_core/model/audio_vae/resnet.py): the VAE's ResnetBlock and HiFi-GAN's ResBlock1.

Channels-last: VAE activations (B, T, F, C), vocoder activations (B, L, C).
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_audio.causal_conv_2d import CausalConv2d
from mlx_ltx_audio.conv1d import Conv1d
from mlx_ltx_core.utils import rms_norm

LRELU_SLOPE = 0.1
PIXEL_NORM_EPS = 1e-6


def pixel_norm(x: mx.array) -> mx.array:
    """PixelNorm(dim=channels, eps=1e-6): x / sqrt(mean(x², C) + eps), channels last."""
    return rms_norm(x, PIXEL_NORM_EPS)


class ResnetBlock(nn.Module):
    """PixelNorm → SiLU → causal conv 3×3 → PixelNorm → SiLU → causal conv 3×3, plus a 1×1 shortcut when C changes."""

    def __init__(self, *, in_channels: int, out_channels: int | None = None):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.conv1 = CausalConv2d(in_channels, out_channels, kernel_size=3)
        self.conv2 = CausalConv2d(out_channels, out_channels, kernel_size=3)
        if in_channels != out_channels:
            self.nin_shortcut = CausalConv2d(in_channels, out_channels, kernel_size=1)

    def __call__(self, x: mx.array) -> mx.array:
        h = self.conv1(nn.silu(pixel_norm(x)))
        h = self.conv2(nn.silu(pixel_norm(h)))  # dropout 0 in every LTX config
        if "nin_shortcut" in self:
            x = self.nin_shortcut(x)
        return x + h


class ResBlock1(nn.Module):
    """HiFi-GAN resblock "1": 3 × [leaky ReLU → dilated conv → leaky ReLU → conv] residual units."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3, 5)):
        super().__init__()
        # torch padding="same" with an odd kernel: (k − 1)·d / 2 on both sides
        self.convs1 = [
            Conv1d(channels, channels, kernel_size, dilation=d, padding=(kernel_size - 1) * d // 2) for d in dilation
        ]
        self.convs2 = [Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2) for _ in dilation]

    def __call__(self, x: mx.array) -> mx.array:
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            xt = conv1(nn.leaky_relu(x, LRELU_SLOPE))
            x = x + conv2(nn.leaky_relu(xt, LRELU_SLOPE))
        return x
