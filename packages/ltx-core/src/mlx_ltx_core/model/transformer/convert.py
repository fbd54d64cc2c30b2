"""Checkpoint keys → MLX transformer keys (used by ltx-convert and the tests; no layout change is needed).

The transformer's weights are Linear matrices and AdaLN tables, which MLX stores exactly as PyTorch does.
"""

from __future__ import annotations

import numpy as np

CHECKPOINT_PREFIX = "model.diffusion_model."
# Also under the prefix, but part of the text encoder's projection component.
_TEXT_CONNECTORS = ("video_embeddings_connector.", "audio_embeddings_connector.")


def transformer_key(checkpoint_key: str) -> str | None:
    """``model.diffusion_model.transformer_blocks.0.attn1.to_q.weight`` → ``transformer_blocks.0.attn1.to_q.weight``;
    None for keys that are not the transformer's."""
    if not checkpoint_key.startswith(CHECKPOINT_PREFIX):
        return None
    key = checkpoint_key[len(CHECKPOINT_PREFIX) :]
    return None if key.startswith(_TEXT_CONNECTORS) else key


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one transformer tensor: none (Linear weights are (out, in) in both frameworks)."""
    return value
