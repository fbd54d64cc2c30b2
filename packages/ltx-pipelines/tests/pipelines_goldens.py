"""Reading the pipelines goldens (tools/parity/goldens_pipelines.py) and converting them to MLX layout."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np

from mlx_ltx_core.model.transformer import LTXModel, Modality, X0Model

from ltx_testing import goldens_root, load, manifest
from transformer_goldens import build

FAMILY = "pipelines"


def cases(kind: str) -> list[str]:
    """Names of the manifest's cases of one kind (parametrize over these)."""
    return sorted(name for name, info in manifest(FAMILY)["cases"].items() if info["kind"] == kind)


def case(name: str) -> dict[str, Any]:
    return manifest(FAMILY)["cases"][name]


def tensors(name: str) -> dict[str, np.ndarray]:
    return load(FAMILY, case(name)["file"])


def path(file: str) -> str:
    return str(goldens_root() / FAMILY / file)


def video_to_mlx(x: np.ndarray) -> mx.array:
    """Reference video latent (B, C, F, H, W) → MLX (B, F, H, W, C)."""
    return mx.array(np.ascontiguousarray(x.transpose(0, 2, 3, 4, 1)))


def audio_to_mlx(x: np.ndarray) -> mx.array:
    """Reference audio latent (B, C, T, mel) → MLX (B, T, mel, C)."""
    return mx.array(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))


def video_to_torch(x: mx.array) -> np.ndarray:
    return np.array(x).transpose(0, 4, 1, 2, 3)


def audio_to_torch(x: mx.array) -> np.ndarray:
    return np.array(x).transpose(0, 3, 1, 2)


def tiny_transformer(config: str = "ltx2_av") -> LTXModel:
    """The float32 golden transformer the loops were made with (tests/goldens/transformer, same seed)."""
    return build({"config": config, "weights": f"{config}.weights.safetensors"})


class CountingModel:
    """Wraps an ``X0Model``: ``calls`` counts evaluations (samples through the transformer, so batched guidance
    passes count one each) and ``forwards`` counts transformer calls."""

    def __init__(self, model: X0Model):
        self.model, self.calls, self.forwards = model, 0, 0

    def __call__(self, video: Modality | None, audio: Modality | None, perturbations: Any = None) -> Any:
        self.calls += (video or audio).latent.shape[0]
        self.forwards += 1
        return self.model(video, audio, perturbations)
