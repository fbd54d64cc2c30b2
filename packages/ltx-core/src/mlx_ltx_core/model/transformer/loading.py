"""Load and save the transformer as a component folder (docs/format.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentFolder, build_component, save_component
from mlx_ltx_core.model.transformer.args import LTXModelArgs
from mlx_ltx_core.model.transformer.model import LTXModel

COMPONENT = "transformer"


def _build(folder: ComponentFolder) -> LTXModel:
    return LTXModel(LTXModelArgs.from_dict(folder.config, folder.info.get("model_type", "AudioVideo")))


def load_transformer(
    path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None, low_memory: bool = False
) -> LTXModel:
    """Build ``LTXModel`` from a transformer component folder: strict, quantized as recorded, eager unless lazy.

    ``dtype`` casts the non-quantized float weights (e.g. mx.float32 to run a bf16 folder in float32).
    ``low_memory``: the blocks stay in the folder and each forward reads them one at a time (streaming.py).
    """
    if low_memory:
        from mlx_ltx_core.model.transformer.streaming import load_streamed_transformer

        return load_streamed_transformer(path, dtype=dtype)
    return build_component(path, COMPONENT, _build, lazy=lazy, dtype=dtype)


def save_transformer(
    path: str | os.PathLike,
    model: LTXModel,
    config: dict[str, Any],
    *,
    quantization: dict[str, Any] | None = None,
    model_version: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model``'s parameters and the verbatim ``config["transformer"]`` as a component folder."""
    info = {"model_type": model.args.model_type.name}
    if model_version is not None:
        info["model_version"] = model_version
    weights = dict(tree_flatten(model.parameters()))
    return save_component(path, COMPONENT, config, weights, info=info, quantization=quantization, overwrite=overwrite)
