"""Hugging Face / MLX Gemma 3 checkpoint keys → mlx-lm's ``gemma3_text.Model`` keys (ports GEMMA_LLM_KEY_OPS).

No tensor changes layout: Gemma's weights are Linear/embedding matrices, which MLX stores as PyTorch does.
"""

from __future__ import annotations

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


def gemma_key(checkpoint_key: str) -> str | None:
    """A Hugging Face / MLX Gemma 3 checkpoint key → the mlx-lm ``gemma3_text.Model`` key; None for vision keys.

    A key of no Gemma 3 layout raises ``ValueError`` (a checkpoint of another model must not load silently).
    """
    for prefix, target in _GEMMA_PREFIXES:
        if checkpoint_key.startswith(prefix):
            return None if target is None else target + checkpoint_key[len(prefix) :]
    raise ValueError(f"checkpoint key {checkpoint_key!r} belongs to no Gemma 3 layout")
