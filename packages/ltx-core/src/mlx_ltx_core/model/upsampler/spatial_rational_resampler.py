"""Rational spatial scaling: up by ``num`` with a pixel shuffle, down by ``den`` with a blur
(ports model/upsampler/spatial_rational_resampler.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.upsampler.blur_downsample import BlurDownsample
from mlx_ltx_core.model.upsampler.pixel_shuffle import PixelShuffleND

RATIONAL_SCALES = {0.75: (3, 4), 1.5: (3, 2), 2.0: (2, 1), 4.0: (4, 1)}


class SpatialRationalResampler(nn.Module):
    """Per frame: ``Conv2d(mid -> num²·mid)``, pixel shuffle by ``num``, blur-downsample by ``den``."""

    def __init__(self, mid_channels: int, scale: float):
        super().__init__()
        if float(scale) not in RATIONAL_SCALES:
            raise ValueError(f"spatial_scale={scale} is not supported; choose from {list(RATIONAL_SCALES)}")
        self.scale = float(scale)
        self.num, self.den = RATIONAL_SCALES[self.scale]
        self.conv = nn.Conv2d(mid_channels, self.num**2 * mid_channels, 3, padding=1)
        self.pixel_shuffle = PixelShuffleND(2, upscale_factors=(self.num, self.num))
        self.blur_down = BlurDownsample(dims=2, stride=self.den)

    def __call__(self, x: mx.array) -> mx.array:
        """(B, F, H, W, C) -> (B, F, H', W', C) with H' ≈ H·scale."""
        b, f = x.shape[:2]
        y = self.blur_down(self.pixel_shuffle(self.conv(x.reshape(b * f, *x.shape[2:]))))
        return y.reshape(b, f, *y.shape[1:])
