"""Checkpoint keys → MLX transformer keys; no layout change is needed.

The transformer's weights are Linear matrices and AdaLN tables, which MLX stores exactly as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from mlx_ltx_convert import prefixes


def transformer_key(checkpoint_key: str) -> str | None:
    """``model.diffusion_model.transformer_blocks.0.attn1.to_q.weight`` → ``transformer_blocks.0.attn1.to_q.weight``;
    None for keys that are not the transformer's (the text connectors under its prefix included)."""
    if not checkpoint_key.startswith(prefixes.TRANSFORMER) or checkpoint_key.startswith(prefixes.TEXT_CONNECTORS):
        return None
    return checkpoint_key[len(prefixes.TRANSFORMER) :]


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one transformer tensor: none (Linear weights are (out, in) in both frameworks)."""
    return value
