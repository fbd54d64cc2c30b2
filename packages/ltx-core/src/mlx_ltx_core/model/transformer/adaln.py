"""AdaLN-single timestep modulation (ports ltx_core/model/transformer/adaln.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.timestep_embedding import PixArtAlphaCombinedTimestepSizeEmbeddings

# 6 rows (shift/scale/gate for self-attention and feed-forward); LTX-2.3's cross-attention AdaLN adds 3.
ADALN_NUM_BASE_PARAMS = 6
ADALN_NUM_CROSS_ATTN_PARAMS = 3


def adaln_embedding_coefficient(cross_attention_adaln: bool) -> int:
    return ADALN_NUM_BASE_PARAMS + (ADALN_NUM_CROSS_ATTN_PARAMS if cross_attention_adaln else 0)


class AdaLayerNormSingle(nn.Module):
    """Timestep → (modulation (N, coef·D), embedded timestep (N, D)), PixArt-α style."""

    def __init__(self, embedding_dim: int, embedding_coefficient: int = 6):
        super().__init__()
        self.emb = PixArtAlphaCombinedTimestepSizeEmbeddings(embedding_dim)
        self.linear = nn.Linear(embedding_dim, embedding_coefficient * embedding_dim)

    def __call__(self, timestep: mx.array, hidden_dtype: mx.Dtype) -> tuple[mx.array, mx.array]:
        embedded_timestep = self.emb(timestep, hidden_dtype)
        return self.linear(nn.silu(embedded_timestep)), embedded_timestep
