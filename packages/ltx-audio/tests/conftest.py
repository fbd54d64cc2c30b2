"""Fixtures shared by the ltx-audio tests: golden cases turned into MLX models and channels-last arrays."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest

from mlx_ltx_audio import AudioDecoder, AudioEncoder, AudioVAEArgs, build_vocoder
from mlx_ltx_convert.layouts.audio import component_key, torch_to_mlx

from ltx_testing import group, load, manifest

COMPONENT_OF = {"audio_encoder": "audio_encoder", "audio_decoder": "audio_decoder"}


def component_of(case: str) -> str:
    return COMPONENT_OF.get(case, "vocoder")


def channels_last(x: np.ndarray) -> np.ndarray:
    """PyTorch (B, C, T, F) -> (B, T, F, C) and (B, C, L) -> (B, L, C)."""
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x.transpose(0, 2, 1)


def mlx_weights(case: str) -> dict[str, mx.array]:
    """The golden's checkpoint-keyed weights as component keys in MLX layout (float32)."""
    component = component_of(case)
    out = {}
    for key, value in group(load("audio", manifest("audio")["cases"][case]["file"]), "weights").items():
        name = component_key(component, key)
        assert name is not None, key
        out[name] = mx.array(torch_to_mlx(component, name, value.astype(np.float32)))
    return out


def build_model(case: str) -> nn.Module:
    config = manifest("audio")["cases"][case]["config"]
    component = component_of(case)
    if component == "vocoder":
        return build_vocoder(config["vocoder"])
    args = AudioVAEArgs.from_dict(config["audio_vae"])
    return AudioEncoder(args) if component == "audio_encoder" else AudioDecoder(args)


class Goldens:
    """Helpers over the audio goldens, handed to tests by the ``goldens`` fixture."""

    channels_last = staticmethod(channels_last)
    component_of = staticmethod(component_of)
    mlx_weights = staticmethod(mlx_weights)
    build_model = staticmethod(build_model)

    @staticmethod
    def case(name: str) -> tuple[dict, dict[str, np.ndarray]]:
        """(manifest info, all tensors) of one case."""
        info = manifest("audio")["cases"][name]
        return info, load("audio", info["file"])

    @staticmethod
    def model(case: str) -> nn.Module:
        """The case's model with its golden weights loaded strictly."""
        model = build_model(case)
        model.load_weights(list(mlx_weights(case).items()), strict=True)
        model.eval()
        return model


@pytest.fixture
def goldens() -> type[Goldens]:
    return Goldens
