"""Checkpoint (PyTorch layout) -> MLX layout for the audio components (mlx-ltx-audio); pure numpy, so ltx-convert
converts audio without installing mlx-ltx-audio.

Components (the loaders' names) and their checkpoint keys -> component keys:

- ``audio_encoder``: ``audio_vae.encoder.*`` and ``audio_vae.per_channel_statistics.*``, less ``audio_vae.encoder.``
  and ``audio_vae.`` respectively;
- ``audio_decoder``: likewise with ``audio_vae.decoder.``;
- ``vocoder``: ``vocoder.*`` less the first ``vocoder.`` (LTX-2.3 keys start ``vocoder.vocoder.``).

Layout rules: Conv2d (O, I, kh, kw) -> (O, kh, kw, I); Conv1d (O, I, k) -> (O, k, I), the BWE STFT bases included;
ConvTranspose1d ``ups.N.weight`` (I, O, k) -> (O, k, I); the anti-aliasing filters (1, 1, K) -> (K,) after a check
against the Kaiser-sinc filter computed in code. Everything else is unchanged.
"""

from __future__ import annotations

import math
import re
from typing import Any

import mlx.core as mx
import numpy as np


def kaiser_sinc_filter1d(cutoff: float, half_width: float, kernel_size: int) -> np.ndarray:
    """Kaiser-windowed sinc low-pass (BigVGAN), normalised to unit DC gain; float64 (kernel_size,)."""
    half = kernel_size // 2
    amplitude = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    if amplitude > 50.0:
        beta = 0.1102 * (amplitude - 8.7)
    elif amplitude >= 21.0:
        beta = 0.5842 * (amplitude - 21) ** 0.4 + 0.07886 * (amplitude - 21.0)
    else:
        beta = 0.0
    window = np.kaiser(kernel_size, beta)
    even = kernel_size % 2 == 0
    time = np.arange(-half, half) + 0.5 if even else np.arange(kernel_size) - half
    if cutoff == 0:
        return np.zeros(kernel_size)
    taps = 2 * cutoff * window * np.sinc(2 * cutoff * time)
    return taps / taps.sum()


COMPONENTS = ("audio_encoder", "audio_decoder", "vocoder")
_PREFIXES = {
    "audio_encoder": (("audio_vae.encoder.", ""), ("audio_vae.per_channel_statistics.", "per_channel_statistics.")),
    "audio_decoder": (("audio_vae.decoder.", ""), ("audio_vae.per_channel_statistics.", "per_channel_statistics.")),
    "vocoder": (("vocoder.", ""),),
}
_CONV_TRANSPOSE = re.compile(r"(^|\.)ups\.\d+\.weight$")
_FILTER = re.compile(r"\.(upsample\.filter|downsample\.lowpass\.filter)$")
# Activation1d always uses ratio 2 and 12 taps: cutoff 0.25, half width 0.3
ACTIVATION_FILTER = kaiser_sinc_filter1d(0.25, 0.3, 12)
# the checkpoint may hold the filters in bfloat16 (8 mantissa bits)
FILTER_RTOL = 2.0**-7


def component_key(component: str, checkpoint_key: str) -> str | None:
    """The component's key for a checkpoint key, or None when the key belongs to another component."""
    _check_component(component)
    for prefix, replacement in _PREFIXES[component]:
        if checkpoint_key.startswith(prefix):
            return replacement + checkpoint_key[len(prefix) :]
    return None


def torch_to_mlx(component: str, key: str, array: Any) -> Any:
    """Convert one tensor (numpy or MLX array) of ``component`` under its component key to MLX layout."""
    _check_component(component)
    if component != "vocoder":
        return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array
    if _FILTER.search(key):
        _check_filter(key, array)
        return array.reshape(-1)
    if _CONV_TRANSPOSE.search(key):
        return array.transpose(1, 2, 0)
    return array.transpose(0, 2, 1) if array.ndim == 3 else array


def _check_filter(key: str, array: Any) -> None:
    if isinstance(array, np.ndarray) and not any(array.strides):
        return  # ltx-convert's shape probe (a zero-stride stand-in): there are no values to check yet
    values = np.array(array.astype(mx.float32) if isinstance(array, mx.array) else array, dtype=np.float64).reshape(-1)
    if (
        values.shape != ACTIVATION_FILTER.shape
        or np.abs(values - ACTIVATION_FILTER).max() > FILTER_RTOL * np.abs(ACTIVATION_FILTER).max()
    ):
        raise ValueError(
            f"vocoder: {key} is not the 12-tap Kaiser-sinc filter of a ×2 anti-aliased activation; the checkpoint "
            "does not match this vocoder"
        )


def _check_component(component: str) -> None:
    if component not in COMPONENTS:
        raise ValueError(f"unknown audio component {component!r}; expected one of {', '.join(COMPONENTS)}")
