"""Build the tiny golden transformers and their inputs exactly as tools/parity/goldens_transformer.py does."""

from __future__ import annotations

import functools
import json
from typing import Any

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten, tree_map
from safetensors import safe_open

from mlx_ltx_convert.layouts.transformer import torch_to_mlx, transformer_key
from mlx_ltx_core.guidance.perturbations import (
    BatchedPerturbationConfig,
    Perturbation,
    PerturbationConfig,
    PerturbationType,
)
from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, Modality

from ltx_testing import goldens_root, group, load

FAMILY = "transformer"


def model_type(config_name: str) -> str:
    return "VideoOnly" if config_name.endswith("video_only") else "AudioVideo"


@functools.cache
def checkpoint(weights_file: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(config["transformer"], MLX-keyed weights) of a golden weights file in the Lightricks format."""
    with safe_open(str(goldens_root() / FAMILY / weights_file), "np") as f:
        config = json.loads(f.metadata()["config"])["transformer"]
        weights = {transformer_key(k): torch_to_mlx(k, f.get_tensor(k)) for k in f.keys()}
    return config, {k: v for k, v in weights.items() if k is not None}


def build(case: dict[str, Any], dtype: mx.Dtype = mx.float32, model_type_name: str | None = None) -> LTXModel:
    """The case's model with its golden weights (strict), parameters cast to ``dtype``.

    ``model_type_name`` builds another form from the same checkpoint (e.g. "AudioOnly"): then only the keys that
    form owns are loaded, as ltx-convert does.
    """
    config, weights = checkpoint(case["weights"])
    model = LTXModel(LTXModelArgs.from_dict(config, model_type_name or model_type(case["config"])))
    if model_type_name is not None:
        wanted = {k for k, _ in tree_flatten(model.parameters())}
        weights = {k: v for k, v in weights.items() if k in wanted}
    model.load_weights([(k, mx.array(v)) for k, v in weights.items()], strict=True)
    if dtype != mx.float32:
        model.update(tree_map(lambda p: p.astype(dtype), model.parameters()))
    return model


def modalities(case: dict[str, Any], dtype: mx.Dtype = mx.float32) -> tuple[Modality | None, Modality | None]:
    """Video and audio ``Modality`` from the case inputs; positions stay float32, masks as stored (the LTX-2.5
    ``keyframes_mask`` cast like the latents)."""
    inputs = group(load(FAMILY, case["file"]), "inputs")

    def one(prefix: str) -> Modality | None:
        if f"{prefix}.latent" not in inputs:
            return None

        def get(name: str, cast: bool = True) -> mx.array | None:
            value = inputs.get(f"{prefix}.{name}")
            if value is None:
                return None
            return mx.array(value).astype(dtype) if cast else mx.array(value)

        return Modality(
            latent=get("latent"),
            sigma=get("sigma"),
            timesteps=get("timesteps"),
            positions=get("positions", cast=False),
            context=get("context"),
            context_mask=get("context_mask", cast=False),
            attention_mask=get("attention_mask"),
            keyframes_mask=get("keyframes_mask"),
        )

    return one("video"), one("audio")


def perturbations(case: dict[str, Any], num_layers: int) -> BatchedPerturbationConfig | None:
    """The generator's perturbations per case name: STG on the last block, A/V isolation on every block."""
    stg = PerturbationConfig(
        (
            Perturbation(PerturbationType.SKIP_VIDEO_SELF_ATTN, (num_layers - 1,)),
            Perturbation(PerturbationType.SKIP_AUDIO_SELF_ATTN, (num_layers - 1,)),
        )
    )
    iso = PerturbationConfig(
        (Perturbation(PerturbationType.SKIP_A2V_CROSS_ATTN), Perturbation(PerturbationType.SKIP_V2A_CROSS_ATTN))
    )
    table = {
        "stg": (stg,),
        "isolated": (iso,),
        "mixed_batch": (PerturbationConfig.empty(), stg, iso),
    }
    return BatchedPerturbationConfig(table[case["case"]]) if case["case"] in table else None
