"""Band-limited resampling equal to ``torchaudio.functional.resample`` (sinc_interp_hann, width 6, rolloff 0.99).

Used by the mel front-end (ltx_core/model/audio_vae/ops.py: ``AudioProcessor.resample_audio``). numpy, float64.
"""

from __future__ import annotations

import math

import numpy as np

LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def sinc_resample_kernel(orig_freq: int, new_freq: int) -> tuple[np.ndarray, int]:
    """The polyphase kernels (new', 2·width + orig') for the gcd-reduced rates, and ``width``."""
    gcd = math.gcd(orig_freq, new_freq)
    orig, new = orig_freq // gcd, new_freq // gcd
    base_freq = min(orig, new) * ROLLOFF
    width = math.ceil(LOWPASS_FILTER_WIDTH * orig / base_freq)
    idx = np.arange(-width, width + orig, dtype=np.float64)[None] / orig
    t = (np.arange(0, -new, -1, dtype=np.float64)[:, None] / new + idx) * base_freq
    t = np.clip(t, -LOWPASS_FILTER_WIDTH, LOWPASS_FILTER_WIDTH)
    window = np.cos(t * math.pi / LOWPASS_FILTER_WIDTH / 2) ** 2
    t = t * math.pi
    safe = np.where(t == 0, 1.0, t)
    kernels = np.where(t == 0, 1.0, np.sin(safe) / safe)
    return kernels * window * (base_freq / orig), width


def resample(waveform: np.ndarray, orig_freq: int, new_freq: int) -> np.ndarray:
    """Resample along the last axis: (..., N) at ``orig_freq`` -> (..., ⌈N·new/orig⌉) at ``new_freq``, float64."""
    if orig_freq <= 0 or new_freq <= 0 or int(orig_freq) != orig_freq or int(new_freq) != new_freq:
        raise ValueError(f"sample rates must be positive integers, got {orig_freq} -> {new_freq}")
    waveform = np.asarray(waveform, dtype=np.float64)
    if orig_freq == new_freq:
        return waveform
    kernels, width = sinc_resample_kernel(int(orig_freq), int(new_freq))
    gcd = math.gcd(int(orig_freq), int(new_freq))
    orig, new = orig_freq // gcd, new_freq // gcd
    *lead, length = waveform.shape
    flat = np.pad(waveform.reshape(-1, length), [(0, 0), (width, width + orig)])
    # conv1d with stride orig: frame j sees samples [j·orig, j·orig + 2·width + orig)
    frames = np.lib.stride_tricks.sliding_window_view(flat, kernels.shape[1], axis=-1)[:, ::orig]
    out = (frames @ kernels.T).reshape(flat.shape[0], -1)
    target = math.ceil(new * length / orig)  # torchaudio's float expression, on the reduced rates
    return out[:, :target].reshape(*lead, -1)
