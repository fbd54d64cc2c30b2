"""Loaders for the audio component folders (``audio_encoder``, ``audio_decoder``, ``vocoder``); strict.

``config.json`` holds the checkpoint's ``config["audio_vae"]`` (both VAE halves) or ``config["vocoder"]``.
"""

from __future__ import annotations

import os
from typing import Any

import mlx.core as mx

from mlx_ltx_audio.audio_vae import AudioDecoder, AudioEncoder, AudioVAEArgs
from mlx_ltx_audio.vocoder import Vocoder, VocoderArgs
from mlx_ltx_audio.vocoder_bwe import VocoderWithBWE, VocoderWithBWEArgs
from mlx_ltx_core.loader import ComponentFolder, build_component
from mlx_ltx_core.utils import check_config_values


def build_vocoder(config: dict[str, Any]) -> Vocoder | VocoderWithBWE:
    """From ``config["vocoder"]``: LTX-2.3's ``VocoderWithBWE`` when it has a ``bwe`` entry, else HiFi-GAN."""
    if "bwe" in config:
        return VocoderWithBWE(VocoderWithBWEArgs.from_dict(config))
    check_config_values(config, {"resblock": "1", "stereo": True}, "vocoder")
    return Vocoder(VocoderArgs.from_dict(config))


def build_audio_encoder(folder: ComponentFolder) -> AudioEncoder:
    return AudioEncoder(AudioVAEArgs.from_dict(folder.config))


def build_audio_decoder(folder: ComponentFolder) -> AudioDecoder:
    return AudioDecoder(AudioVAEArgs.from_dict(folder.config))


def build_vocoder_component(folder: ComponentFolder) -> Vocoder | VocoderWithBWE:
    return build_vocoder(folder.config)


def load_audio_encoder(path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None) -> AudioEncoder:
    return build_component(path, "audio_encoder", build_audio_encoder, lazy=lazy, dtype=dtype)


def load_audio_decoder(path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None) -> AudioDecoder:
    return build_component(path, "audio_decoder", build_audio_decoder, lazy=lazy, dtype=dtype)


def load_vocoder(path: str | os.PathLike, *, lazy: bool = False) -> Vocoder | VocoderWithBWE:
    """The vocoder always runs in float32 (bfloat16 degrades its output), whatever the checkpoint's dtype."""
    return build_component(path, "vocoder", build_vocoder_component, lazy=lazy, dtype=mx.float32)
