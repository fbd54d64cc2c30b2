"""Load and save the text projection (aggregate embeds + connectors) as a component folder (docs/format.md)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentFolder, build_component, save_component
from mlx_ltx_text.embeddings_processor import (
    GEMMA_HIDDEN_SIZE,
    GEMMA_NUM_HIDDEN_LAYERS,
    EmbeddingsProcessor,
    EmbeddingsProcessorArgs,
)

COMPONENT = "text_projection"


def _build(folder: ComponentFolder, gemma: tuple[int, int] | None = None) -> EmbeddingsProcessor:
    recorded = folder.info.get("gemma")
    if recorded is not None:
        dims = (recorded["hidden_size"], recorded["num_hidden_layers"])
        if gemma is not None and tuple(gemma) != dims:
            raise ValueError(
                f"{folder.path}: the text projection belongs to a Gemma {dims[0]} wide with {dims[1]} layers, "
                f"the text encoder given is {gemma[0]} wide with {gemma[1]}; pass the model's own Gemma"
            )
    else:
        dims = tuple(gemma) if gemma is not None else (GEMMA_HIDDEN_SIZE, GEMMA_NUM_HIDDEN_LAYERS)
    return EmbeddingsProcessor(EmbeddingsProcessorArgs.from_dict(folder.config, *dims))


def load_text_projection(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    dtype: mx.Dtype | None = None,
    gemma: tuple[int, int] | None = None,
) -> EmbeddingsProcessor:
    """Build ``EmbeddingsProcessor`` from a text_projection folder: strict, quantized as recorded, eager unless lazy.

    The folder's config.json holds the checkpoint's transformer config (its connector_*, caption_proj_*, rope keys
    drive it). The Gemma it reads is ``mlx_ltx.gemma`` when recorded, else ``gemma`` (hidden size, layers) of the
    text encoder in use, else Gemma 3 12B (3840 wide, 48 layers).
    """
    return build_component(path, COMPONENT, functools.partial(_build, gemma=gemma), lazy=lazy, dtype=dtype)


def save_text_projection(
    path: str | os.PathLike,
    model: EmbeddingsProcessor,
    config: dict[str, Any],
    *,
    quantization: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model``'s parameters and the verbatim transformer config as a text_projection component folder."""
    info = {"gemma": {"hidden_size": model.args.embedding_dim, "num_hidden_layers": model.args.num_hidden_states - 1}}
    weights = dict(tree_flatten(model.parameters()))
    return save_component(path, COMPONENT, config, weights, info=info, quantization=quantization, overwrite=overwrite)
