"""Causal 2-D convolution along time (ports ltx_core/model/audio_vae/causal_conv_2d.py, causality axis "height").

Channels-last: x is (B, T, F, C); the time axis is padded on the left only, the frequency axis symmetrically.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn


class CausalConv2d(nn.Module):
    """Pad time by (k_t − 1)·d on the left and frequency by (k_f − 1)·d around, then an unpadded ``conv``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        pad = (kernel_size - 1) * dilation
        self.padding = [(0, 0), (pad, 0), (pad // 2, pad - pad // 2), (0, 0)]
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=0, dilation=dilation)

    def __call__(self, x: mx.array) -> mx.array:
        return self.conv(mx.pad(x, self.padding))
