"""Causal ×2 upsampling (ports ltx_core/model/audio_vae/upsample.py, causality axis "height")."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_audio.causal_conv_2d import CausalConv2d


class Upsample(nn.Module):
    """Nearest ×2 on time and frequency, causal 3×3 conv, drop the first time row: (B, T, F, C) -> (B, 2T−1, 2F, C)."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.conv = CausalConv2d(in_channels, in_channels, kernel_size=3)

    def __call__(self, x: mx.array) -> mx.array:
        x = mx.repeat(mx.repeat(x, 2, axis=1), 2, axis=2)
        # the first two output rows both see only input row 0; dropping the first undoes the encoder's padding
        return self.conv(x)[:, 1:]
