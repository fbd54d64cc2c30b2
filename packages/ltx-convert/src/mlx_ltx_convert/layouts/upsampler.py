"""Tensor layouts and folder names of the latent upsampler checkpoints.

Upscaler files hold the model's keys with no prefix (``initial_conv.weight``, ``upsampler.0.weight``,
``upsampler.blur_down.kernel``, …) and a flat ``config`` in their metadata; each becomes a "latent_upsampler"
component folder named by ``folder_name``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Conv3d (O, I, kT, kH, kW) -> (O, kT, kH, kW, I); Conv2d and the blur kernel (O, I, kH, kW) -> (O, kH, kW, I)."""
    if value.ndim == 5:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 4, 1))
    if value.ndim == 4:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 1))
    return value


def folder_name(config: dict[str, Any]) -> str:
    """``spatial_upscaler_x2``, ``spatial_upscaler_x1.5`` or ``temporal_upscaler_x2`` from the flat config."""
    if config.get("temporal_upsample", False):
        return "temporal_upscaler_x2"
    scale = float(config.get("spatial_scale", 2.0)) if config.get("rational_resampler", False) else 2.0
    return f"spatial_upscaler_x{scale:g}"
