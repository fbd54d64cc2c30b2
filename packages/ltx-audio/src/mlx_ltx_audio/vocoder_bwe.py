"""LTX-2.3 vocoder with bandwidth extension (ports MelSTFT, VocoderWithBWE of ltx_core/model/audio_vae/vocoder.py).

BigVGAN makes 16 kHz audio; a causal STFT log-mel of it feeds a second generator whose output, a residual at
48 kHz, is added to a Hann-sinc ×3 upsampled copy (the skip path). Channels-last, float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_audio.bigvgan import UpSample1d
from mlx_ltx_audio.ops import LOG_MEL_FLOOR
from mlx_ltx_audio.vocoder import Vocoder, VocoderArgs
from mlx_ltx_core.utils import check_config_values

AMP_REQUIRED = {"resblock": "AMP1", "stereo": True, "activation": "snakebeta"}


@dataclass
class VocoderWithBWEArgs:
    vocoder: VocoderArgs
    bwe_generator: VocoderArgs
    input_sampling_rate: int
    output_sampling_rate: int
    hop_length: int
    n_fft: int
    num_mels: int

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> VocoderWithBWEArgs:
        """From the checkpoint's ``config["vocoder"]`` = ``{"vocoder": {...}, "bwe": {...}}``."""
        voc, bwe = config.get("vocoder", {}), config["bwe"]
        check_config_values(voc, AMP_REQUIRED, "vocoder.vocoder")
        check_config_values(bwe, AMP_REQUIRED, "vocoder.bwe")
        return cls(
            vocoder=VocoderArgs.from_dict(voc, output_sampling_rate=bwe["input_sampling_rate"]),
            bwe_generator=VocoderArgs.from_dict(
                bwe, apply_final_activation=False, output_sampling_rate=bwe["output_sampling_rate"]
            ),
            input_sampling_rate=bwe["input_sampling_rate"],
            output_sampling_rate=bwe["output_sampling_rate"],
            hop_length=bwe["hop_length"],
            n_fft=bwe["n_fft"],
            num_mels=bwe["num_mels"],
        )

    def __post_init__(self) -> None:
        ratio, rem = divmod(self.output_sampling_rate, self.input_sampling_rate)
        if rem or ratio < 1:
            raise ValueError(
                f"vocoder.bwe: output_sampling_rate={self.output_sampling_rate} must be a multiple of "
                f"input_sampling_rate={self.input_sampling_rate}"
            )
        if self.bwe_generator.hop != self.hop_length * ratio:
            raise ValueError(
                f"vocoder.bwe: prod(upsample_rates)={self.bwe_generator.hop} must equal hop_length × "
                f"{ratio} = {self.hop_length * ratio}"
            )
        if self.n_fft < self.hop_length:
            raise ValueError(f"vocoder.bwe: n_fft={self.n_fft} must be at least hop_length={self.hop_length}")


class STFTFn(nn.Module):
    """Causal STFT as a strided conv with the checkpoint's DFT × window basis (the reference's ``_STFTFn``)."""

    def __init__(self, filter_length: int, hop_length: int, win_length: int):
        super().__init__()
        self.hop_length = hop_length
        self.win_length = win_length
        n_freqs = filter_length // 2 + 1
        # MLX conv layout (2·n_freqs, n_fft, 1): real rows then imaginary rows
        self.forward_basis = mx.zeros((2 * n_freqs, filter_length, 1))
        self.inverse_basis = mx.zeros((2 * n_freqs, filter_length, 1))  # unused; kept so keys map 1:1

    def __call__(self, y: mx.array) -> mx.array:
        """(N, L) -> magnitude (N, T, n_freqs), T = (L + win − hop − n_fft)/hop + 1; left-only padding."""
        y = mx.pad(y, [(0, 0), (max(0, self.win_length - self.hop_length), 0)])
        n, length = y.shape
        n_fft = self.forward_basis.shape[1]
        frames = (length - n_fft) // self.hop_length + 1
        # the strided conv as frames @ basis: (N, T, n_fft) @ (n_fft, 2·n_freqs)
        windows = mx.as_strided(y, (n, frames, n_fft), (length, self.hop_length, 1))
        spec = windows @ self.forward_basis[..., 0].astype(y.dtype).T
        n_freqs = spec.shape[-1] // 2
        return mx.sqrt(mx.square(spec[..., :n_freqs]) + mx.square(spec[..., n_freqs:]))


class MelSTFT(nn.Module):
    def __init__(self, filter_length: int, hop_length: int, win_length: int, n_mel_channels: int):
        super().__init__()
        self.stft_fn = STFTFn(filter_length, hop_length, win_length)
        self.mel_basis = mx.zeros((n_mel_channels, filter_length // 2 + 1))

    def mel_spectrogram(self, y: mx.array) -> mx.array:
        """(N, L) waveforms -> log-mel (N, T, n_mels)."""
        mel = self.stft_fn(y) @ self.mel_basis.astype(y.dtype).T
        return mx.log(mx.maximum(mel, LOG_MEL_FLOOR))


class VocoderWithBWE(nn.Module):
    """Mel (B, T, 64, 2) -> 48 kHz waveform (B, T·hop·3, 2) in [−1, 1], float32."""

    def __init__(self, args: VocoderWithBWEArgs):
        super().__init__()
        self.args = args
        self.vocoder = Vocoder(args.vocoder)
        self.bwe_generator = Vocoder(args.bwe_generator)
        self.mel_stft = MelSTFT(args.n_fft, args.hop_length, args.n_fft, args.num_mels)
        self.input_sampling_rate = args.input_sampling_rate
        self.output_sampling_rate = args.output_sampling_rate
        self.hop_length = args.hop_length
        # non-persistent Hann-sinc filter, equal to torchaudio's resampling kernel
        ratio = args.output_sampling_rate // args.input_sampling_rate
        self.resampler = UpSample1d(ratio=ratio, persistent=False, window_type="hann")

    def compute_mel(self, audio: mx.array) -> mx.array:
        """(B, L, C) waveform -> causal log-mel (B, T, n_mels, C), the bandwidth extender's input."""
        b, length, c = audio.shape
        mel = self.mel_stft.mel_spectrogram(audio.transpose(0, 2, 1).reshape(b * c, length))
        return mel.reshape(b, c, *mel.shape[1:]).transpose(0, 2, 3, 1)

    def __call__(self, mel: mx.array) -> mx.array:
        x = self.vocoder(mel)
        length = x.shape[1]
        output_length = length * self.output_sampling_rate // self.input_sampling_rate
        if length % self.hop_length:  # a whole number of STFT hops
            x = mx.pad(x, [(0, 0), (0, self.hop_length - length % self.hop_length), (0, 0)])
        residual = self.bwe_generator(self.compute_mel(x))
        skip = self.resampler(x)
        return mx.clip(residual + skip, -1.0, 1.0)[:, :output_length]
