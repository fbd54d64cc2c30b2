"""Checkpoint (PyTorch layout) -> MLX layout for the audio components (the mlx-ltx-audio models).

Components (the loaders' names) and their checkpoint keys -> component keys:

- ``audio_encoder``: ``audio_vae.encoder.*`` and ``audio_vae.per_channel_statistics.*``, less ``audio_vae.encoder.``
  and ``audio_vae.`` respectively;
- ``audio_decoder``: likewise with ``audio_vae.decoder.``;
- ``vocoder``: ``vocoder.*`` less the first ``vocoder.`` (LTX-2.3 keys start ``vocoder.vocoder.``).

Layout rules: Conv2d (O, I, kh, kw) -> (O, kh, kw, I); Conv1d (O, I, k) -> (O, k, I), the BWE STFT bases included;
ConvTranspose1d ``ups.N.weight`` (I, O, k) -> (O, k, I); the anti-aliasing filters (1, 1, K) -> (K,) after a check
against the Kaiser-sinc filter mlx-ltx-audio computes (skipped when it is not installed, with the shape check).
Everything else is unchanged.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

import numpy as np

from mlx_ltx_convert import prefixes

COMPONENTS = ("audio_encoder", "audio_decoder", "vocoder")
_STATISTICS = (prefixes.AUDIO_VAE_STATISTICS, "per_channel_statistics.")
_PREFIXES = {
    "audio_encoder": ((prefixes.AUDIO_VAE_ENCODER, ""), _STATISTICS),
    "audio_decoder": ((prefixes.AUDIO_VAE_DECODER, ""), _STATISTICS),
    "vocoder": ((prefixes.VOCODER, ""),),
}
_CONV_TRANSPOSE = re.compile(r"(^|\.)ups\.\d+\.weight$")
_FILTER = re.compile(r"\.(upsample\.filter|downsample\.lowpass\.filter)$")
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


@functools.cache
def activation_filter() -> np.ndarray | None:
    """mlx-ltx-audio's 12-tap filter of a ×2 anti-aliased activation, or None when that package is not installed."""
    try:
        return importlib.import_module("mlx_ltx_audio.bigvgan").ACTIVATION_FILTER
    except ModuleNotFoundError:
        return None


def _check_filter(key: str, array: Any) -> None:
    expected = activation_filter()
    if expected is None or (isinstance(array, np.ndarray) and not any(array.strides)):
        return  # no audio package (convert warns once), or convert's zero-stride shape probe: no values yet
    values = _float64(array).reshape(-1)
    if values.shape != expected.shape or np.abs(values - expected).max() > FILTER_RTOL * np.abs(expected).max():
        raise ValueError(
            f"vocoder: {key} is not the 12-tap Kaiser-sinc filter of a ×2 anti-aliased activation; the checkpoint "
            "does not match this vocoder"
        )


def _float64(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return np.asarray(array, dtype=np.float64)
    import mlx.core as mx  # MLX arrays come from the package tests, which load goldens through these rules

    return np.array(array.astype(mx.float32), dtype=np.float64)


def _check_component(component: str) -> None:
    if component not in COMPONENTS:
        raise ValueError(f"unknown audio component {component!r}; expected one of {', '.join(COMPONENTS)}")
