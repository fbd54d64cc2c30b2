"""Checkpoint keys of the text projection (aggregate embeddings + A/V connectors), LTX-2.5's Gemma 4 text encoder
and its duration head; no tensor changes layout."""

from __future__ import annotations

from typing import Any

from mlx_ltx_convert import prefixes

# The text-encoder file's tokenizer files, U8 tensors the reference reads (gemma_assets.py); kept as they are.
GEMMA_ASSETS = ("tokenizer_json", "hf_asset__")
# Comfy-flat Gemma 4 language model keys (the shipped file) are mlx-lm gemma4_text's parameter names already.
_GEMMA4_FLAT = ("model.layers.", "model.embed_tokens.", "model.norm.")
_GEMMA4_HF = "model.language_model."  # transformers' layout of the same model


def text_projection_key(checkpoint_key: str) -> str | None:
    """``model.diffusion_model.video_embeddings_connector.X`` → ``video_embeddings_connector.X``,
    ``text_embedding_projection.X`` unchanged; None for keys of other components."""
    if checkpoint_key.startswith(prefixes.TEXT_PROJECTION):
        return checkpoint_key
    if checkpoint_key.startswith(prefixes.TEXT_CONNECTORS):
        return checkpoint_key[len(prefixes.TRANSFORMER) :]
    return None


def gemma4_key(checkpoint_key: str) -> str | None:
    """Text-encoder file key → mlx-lm ``gemma4_text.Model`` key (the reference's GEMMA4_UNIFIED_LLM_KEY_OPS, flat or
    transformers layout), the tokenizer assets unchanged; None for the projection and the vision/audio embedders."""
    if checkpoint_key.startswith(_GEMMA4_FLAT) or is_gemma_asset(checkpoint_key):
        return checkpoint_key
    if checkpoint_key.startswith(_GEMMA4_HF):
        return "model." + checkpoint_key[len(_GEMMA4_HF) :]
    return None


def is_gemma_asset(key: str) -> bool:
    return key == GEMMA_ASSETS[0] or key.startswith(GEMMA_ASSETS[1])


def gemma_dims(metadata_config: dict[str, Any]) -> dict[str, Any]:
    """``{"gemma": {hidden_size, num_hidden_layers}}`` of a text-encoder file's Gemma 4 (what the projection reads);
    nothing for other files (the text projection's default: Gemma 3 12B)."""
    text = metadata_config.get("text_encoder", {}).get("text_config") or {}
    dims = {k: text[k] for k in ("hidden_size", "num_hidden_layers") if k in text}
    return {"gemma": dims} if len(dims) == 2 else {}


def duration_head_key(checkpoint_key: str) -> str | None:
    """``duration_head.X`` → ``X`` (the reference's DURATION_HEAD_KEY_OPS)."""
    return (
        checkpoint_key.removeprefix(prefixes.DURATION_HEAD)
        if checkpoint_key.startswith(prefixes.DURATION_HEAD)
        else None
    )
