"""Mel front-end and latent statistics (ports ltx_core/model/audio_vae/ops.py).

``AudioProcessor`` reproduces torchaudio's ``MelSpectrogram(power=1, slaney mels and norm, centered reflect-padded
STFT, periodic Hann)`` followed by ``log(clamp(mel, 1e-5))``, in float64 numpy (librosa's Slaney filters), and
returns channels-last mels (B, T, n_mels, C) for the audio VAE encoder.
"""

from __future__ import annotations

import librosa
import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_audio.resample import resample

LOG_MEL_FLOOR = 1e-5


class AudioProcessor:
    """Waveform -> log-mel spectrogram at ``target_sample_rate`` (16 kHz, 64 mels, hop 160, n_fft 1024 in LTX-2)."""

    def __init__(
        self, target_sample_rate: int = 16000, mel_bins: int = 64, mel_hop_length: int = 160, n_fft: int = 1024
    ):
        if min(target_sample_rate, mel_bins, mel_hop_length, n_fft) <= 0:
            raise ValueError(
                f"AudioProcessor: sample rate {target_sample_rate}, mel_bins {mel_bins}, hop {mel_hop_length} and "
                f"n_fft {n_fft} must all be positive"
            )
        self.target_sample_rate = target_sample_rate
        self.mel_hop_length = mel_hop_length
        self.n_fft = n_fft
        self.window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # torch.hann_window (periodic)
        self.mel_basis = librosa.filters.mel(
            sr=target_sample_rate,
            n_fft=n_fft,
            n_mels=mel_bins,
            fmin=0.0,
            fmax=target_sample_rate / 2.0,
            htk=False,
            norm="slaney",
            dtype=np.float64,
        )  # (n_mels, n_fft // 2 + 1)

    def resample_audio(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """(..., N) at ``sample_rate`` -> (..., N') at the target rate (torchaudio's sinc/Hann resampler), float64."""
        return resample(waveform, sample_rate, self.target_sample_rate)

    def waveform_to_mel(self, waveform: np.ndarray, sample_rate: int) -> mx.array:
        """Log-mel spectrogram, channels last.

        waveform: (B, C, N) or (C, N) float at ``sample_rate``. Returns float32 (B, T, n_mels, C) with
        T = ⌊N'/hop⌋ + 1 for N' samples at the target rate.
        """
        x = self.resample_audio(np.asarray(waveform), sample_rate)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3:
            raise ValueError(f"waveform must be (B, C, N) or (C, N), got shape {np.shape(waveform)}")
        half = self.n_fft // 2
        if x.shape[-1] <= half:
            raise ValueError(
                f"audio too short: {x.shape[-1]} samples at {self.target_sample_rate} Hz, the centered STFT needs "
                f"at least {half + 1}; pass a longer clip"
            )
        x = np.pad(x, [(0, 0), (0, 0), (half, half)], mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(x, self.n_fft, axis=-1)[..., :: self.mel_hop_length, :]
        magnitude = np.abs(np.fft.rfft(frames * self.window, axis=-1))  # (B, C, T, n_fft // 2 + 1)
        mel = np.log(np.maximum(magnitude @ self.mel_basis.T, LOG_MEL_FLOOR))  # (B, C, T, n_mels)
        return mx.array(mel.transpose(0, 2, 3, 1).astype(np.float32))


class PerChannelStatistics(nn.Module):
    """Dataset statistics of the patchified latent (B, T, C·F); keys ``std-of-means`` and ``mean-of-means``."""

    def __init__(self, latent_channels: int = 128):
        super().__init__()
        self["std-of-means"] = mx.ones((latent_channels,))
        self["mean-of-means"] = mx.zeros((latent_channels,))

    def normalize(self, x: mx.array) -> mx.array:
        return (x - self["mean-of-means"].astype(x.dtype)) / self["std-of-means"].astype(x.dtype)

    def un_normalize(self, x: mx.array) -> mx.array:
        return x * self["std-of-means"].astype(x.dtype) + self["mean-of-means"].astype(x.dtype)
