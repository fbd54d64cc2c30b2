"""Causal strided downsampling (ports ltx_core/model/audio_vae/downsample.py, causality axis "height")."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn


class Downsample(nn.Module):
    """Pad time 2 left and frequency 1 right, 3×3 stride-2 conv: (B, T, F, C) -> (B, ⌊(T−1)/2⌋+1, ⌊F/2⌋, C)."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=2, padding=0)

    def __call__(self, x: mx.array) -> mx.array:
        return self.conv(mx.pad(x, [(0, 0), (2, 0), (0, 1), (0, 0)]))
