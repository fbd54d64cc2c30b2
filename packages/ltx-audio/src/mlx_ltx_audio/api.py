"""Entry points for the pipelines (ports ``decode_audio`` / ``encode_audio`` of ltx_core/model/audio_vae/audio_vae.py).

Latents are channels-last (B, T', 16, 8) at 25 frames/s; ``patchify`` turns them into the transformer's
(B, T', 8·16) tokens. Waveforms are float32 numpy (channels, samples).
"""

from __future__ import annotations

import os

import mlx.core as mx
import numpy as np

from mlx_ltx_audio.audio_io import Audio, load_audio, to_stereo
from mlx_ltx_audio.audio_vae import AudioDecoder, AudioEncoder
from mlx_ltx_audio.ops import AudioProcessor
from mlx_ltx_audio.vocoder import Vocoder
from mlx_ltx_audio.vocoder_bwe import VocoderWithBWE


def decode_audio(latent: mx.array, audio_decoder: AudioDecoder, vocoder: Vocoder | VocoderWithBWE) -> Audio:
    """Latent (1, T', F', C) or (T', F', C) -> ``Audio(waveform (2, N) float32, sampling_rate)``.

    N = (4T' − 3) · 160 · sr/16000 (24 kHz for LTX-2, 48 kHz for LTX-2.3).
    """
    if latent.ndim == 3:
        latent = latent[None]
    if latent.ndim != 4 or latent.shape[0] != 1:
        raise ValueError(f"decode_audio: latent must be (1, T, F, C) or (T, F, C), got shape {tuple(latent.shape)}")
    waveform = vocoder(audio_decoder(latent))
    return Audio(np.array(waveform[0].T), vocoder.output_sampling_rate)


def encode_waveform(audio: Audio, audio_encoder: AudioEncoder) -> mx.array:
    """``Audio`` (mono or stereo (C, N) at any rate) -> latent (1, T', F', C) with T' = ⌈(⌊N'/160⌋ + 1)/4⌉."""
    args = audio_encoder.args
    assert args.mel_bins is not None  # AudioVAEArgs refuses None
    processor = AudioProcessor(args.sample_rate, args.mel_bins, args.mel_hop_length, args.n_fft)
    mel = processor.waveform_to_mel(to_stereo(audio.waveform)[None], audio.sampling_rate)
    return audio_encoder(mel.astype(audio_encoder.conv_in.conv.weight.dtype))


def encode_audio(
    path: str | os.PathLike, audio_encoder: AudioEncoder, start_time: float = 0.0, max_duration: float | None = None
) -> mx.array:
    """Read ``max_duration`` seconds from ``start_time`` of an audio/video file and encode it: (1, T', F', C)."""
    return encode_waveform(load_audio(path, start_time, max_duration), audio_encoder)
