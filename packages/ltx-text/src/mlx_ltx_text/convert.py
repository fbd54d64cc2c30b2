"""Checkpoint keys → MLX keys for the text projection and for Gemma 3 (used by ltx-convert and the tests).

No tensor changes layout: the text projection is Linear matrices and registers, and Gemma's weights are
Linear/embedding matrices, which MLX stores exactly as PyTorch does.
"""

from __future__ import annotations

import numpy as np

CHECKPOINT_PREFIX = "model.diffusion_model."
_CONNECTORS = ("video_embeddings_connector.", "audio_embeddings_connector.")
_FEATURE_EXTRACTOR = "text_embedding_projection."

# Hugging Face Gemma 3 layouts → mlx-lm's gemma3_text.Model (``model.*``, ``lm_head.*``); None drops the key.
_GEMMA_PREFIXES = (
    ("language_model.model.", "model."),  # google's checkpoints (transformers 4.5x)
    ("language_model.lm_head.", "lm_head."),
    ("model.language_model.", "model."),  # transformers >= 4.52
    ("vision_tower.", None),  # the SigLIP tower and projector: only image prompts use them (not ported)
    ("multi_modal_projector.", None),
    ("model.vision_tower.", None),
    ("model.multi_modal_projector.", None),
    ("model.", "model."),  # text-only (gemma3_text) checkpoints
    ("lm_head.", "lm_head."),
)


def text_projection_key(checkpoint_key: str) -> str | None:
    """``model.diffusion_model.video_embeddings_connector.X`` → ``video_embeddings_connector.X``,
    ``text_embedding_projection.X`` unchanged; None for keys of other components."""
    if checkpoint_key.startswith(_FEATURE_EXTRACTOR):
        return checkpoint_key
    if checkpoint_key.startswith(CHECKPOINT_PREFIX):
        key = checkpoint_key[len(CHECKPOINT_PREFIX) :]
        return key if key.startswith(_CONNECTORS) else None
    return None


def gemma_key(checkpoint_key: str) -> str | None:
    """A Hugging Face / MLX Gemma 3 checkpoint key → the mlx-lm ``gemma3_text.Model`` key; None for vision keys.

    A key of no Gemma 3 layout raises ``ValueError`` (a checkpoint of another model must not load silently).
    """
    for prefix, target in _GEMMA_PREFIXES:
        if checkpoint_key.startswith(prefix):
            return None if target is None else target + checkpoint_key[len(prefix) :]
    raise ValueError(f"checkpoint key {checkpoint_key!r} belongs to no Gemma 3 layout")


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one text-projection or Gemma tensor: none."""
    return value
