"""Tensor layouts of the latent upsampler checkpoints (used by ltx-convert and the tests; numpy only).

Upscaler files hold the model's keys with no prefix (``initial_conv.weight``, ``upsampler.0.weight``,
``upsampler.blur_down.kernel``, …) and a flat ``config`` in their metadata.
"""

from __future__ import annotations

import numpy as np


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Conv3d (O, I, kT, kH, kW) -> (O, kT, kH, kW, I); Conv2d and the blur kernel (O, I, kH, kW) -> (O, kH, kW, I)."""
    if value.ndim == 5:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 4, 1))
    if value.ndim == 4:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 1))
    return value
