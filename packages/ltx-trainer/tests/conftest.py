"""Fixtures of the ltx-trainer tests: the trainer goldens turned into MLX models, batches and draws."""

from __future__ import annotations

import functools
import json
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from safetensors import safe_open

from mlx_ltx_convert.layouts.transformer import torch_to_mlx, transformer_key
from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs
from mlx_ltx_trainer.config import FlexibleStrategyConfig, parse_config
from mlx_ltx_trainer.lora import inject_lora, lora_modules

from ltx_testing import goldens_root, group, load, manifest

FAMILY = "trainer"


@functools.cache
def _checkpoint() -> tuple[dict[str, Any], list[tuple[str, np.ndarray]]]:
    with safe_open(str(goldens_root() / FAMILY / manifest(FAMILY)["weights"]), "np") as f:
        config = json.loads(f.metadata()["config"])["transformer"]
        weights = [(transformer_key(k), torch_to_mlx(k, f.get_tensor(k))) for k in f.keys()]
    return config, [(k, v) for k, v in weights if k is not None]


class Goldens:
    @staticmethod
    def manifest() -> dict[str, Any]:
        return manifest(FAMILY)

    @staticmethod
    def tensors(file: str) -> dict[str, np.ndarray]:
        return load(FAMILY, file)

    @staticmethod
    def plain() -> LTXModel:
        """The tiny transformer with its golden weights (strict), no adapters."""
        config, weights = _checkpoint()
        model = LTXModel(LTXModelArgs.from_dict(config, "AudioVideo"))
        model.load_weights([(k, mx.array(v)) for k, v in weights], strict=True)
        return model

    @staticmethod
    def model(lora: dict[str, np.ndarray] | None = None) -> LTXModel:
        """The tiny transformer with the manifest's LoRA adapters injected and set (default: lora.safetensors)."""
        model = Goldens.plain()
        spec = manifest(FAMILY)["lora"]
        inject_lora(model, spec["rank"], spec["alpha"], spec["target_modules"], spec["dropout"])
        lora = lora if lora is not None else load(FAMILY, manifest(FAMILY)["lora_weights"])
        for name, m in lora_modules(model).items():
            m.lora_A = mx.array(lora[f"{name}.lora_A"])
            m.lora_B = mx.array(lora[f"{name}.lora_B"])
        return model

    @staticmethod
    def strategy_config(strategy: dict[str, Any]) -> FlexibleStrategyConfig:
        cfg = parse_config(
            {
                "model": {"model_path": "unused"},
                "lora": {},
                "data": {"preprocessed_data_root": "unused"},
                "training_strategy": {"name": "flexible", **strategy},
            }
        ).training_strategy
        assert isinstance(cfg, FlexibleStrategyConfig)
        return cfg

    @staticmethod
    def connectors(info: dict[str, Any], weights: dict[str, np.ndarray]) -> Any:
        """The case's video/audio ``Embeddings1DConnector`` (ltx-text) with its weights, strict."""
        from types import SimpleNamespace

        from mlx_ltx_core.model.transformer.rope import LTXRopeType
        from mlx_ltx_text.embeddings_connector import Embeddings1DConnector

        args = {**info["connector_args"], "rope_type": LTXRopeType(info["connector_args"]["rope_type"])}
        built = {}
        for name, c in info["connectors"].items():
            conn = Embeddings1DConnector(attention_head_dim=c["head_dim"], num_attention_heads=c["heads"], **args)
            prefix = f"{name}_connector."
            conn.load_weights([(k[len(prefix) :], mx.array(v)) for k, v in weights.items() if k.startswith(prefix)])
            built[f"{name}_embeddings_connector"] = conn
        return SimpleNamespace(**built)

    @staticmethod
    def batch(tensors: dict[str, np.ndarray], prefix: str = "batch") -> dict[str, Any]:
        """The golden batch in MLX layout: video latents (B, F, H, W, C) bf16, audio (B, T, 16, 8) f32."""
        out: dict[str, Any] = {}
        for key, value in group(tensors, prefix).items():
            source, name = key.split(".", 1)
            out.setdefault(source, {})[name] = value
        batch: dict[str, Any] = {}
        for source, entry in out.items():
            if source == "conditions":
                batch[source] = {k: mx.array(v) for k, v in entry.items()}
            elif "mask" in entry:
                batch[source] = {"mask": mx.array(entry["mask"])}
            elif "height" in entry:  # video latents
                batch[source] = {
                    "latents": mx.array(entry["latents"].transpose(0, 2, 3, 4, 1)).astype(mx.bfloat16),
                    "num_frames": int(entry["num_frames"][0]),
                    "height": int(entry["height"][0]),
                    "width": int(entry["width"][0]),
                    "fps": float(entry["fps"][0]),
                }
            else:  # audio latents
                batch[source] = {"latents": mx.array(entry["latents"].transpose(0, 2, 3, 1))}
        return batch

    @staticmethod
    def draws(tensors: dict[str, np.ndarray], prefix: str = "draws") -> list[np.ndarray]:
        d = group(tensors, prefix)
        return [d[k] for k in sorted(d)]


@pytest.fixture
def goldens() -> type[Goldens]:
    return Goldens
