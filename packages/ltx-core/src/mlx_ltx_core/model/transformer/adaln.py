"""AdaLN-single timestep modulation (ports ltx_core/model/transformer/adaln.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_core.model.transformer.timestep_embedding import PixArtAlphaCombinedTimestepSizeEmbeddings

# 6 rows (shift/scale/gate for self-attention and feed-forward); LTX-2.3's cross-attention AdaLN adds 3.
ADALN_NUM_BASE_PARAMS = 6
ADALN_NUM_CROSS_ATTN_PARAMS = 3
_BITS = {2: mx.uint16, 4: mx.uint32, 8: mx.uint64}  # an unsigned view per item size: dedup by exact bit pattern


def adaln_embedding_coefficient(cross_attention_adaln: bool) -> int:
    return ADALN_NUM_BASE_PARAMS + (ADALN_NUM_CROSS_ATTN_PARAMS if cross_attention_adaln else 0)


class AdaLayerNormSingle(nn.Module):
    """Timestep → (modulation (N, coef·D), embedded timestep (N, D)), PixArt-α style."""

    def __init__(self, embedding_dim: int, embedding_coefficient: int = 6):
        super().__init__()
        self.emb = PixArtAlphaCombinedTimestepSizeEmbeddings(embedding_dim)
        self.linear = nn.Linear(embedding_dim, embedding_coefficient * embedding_dim)

    def __call__(self, timestep: mx.array, hidden_dtype: mx.Dtype, scale: float = 1.0) -> tuple[mx.array, mx.array]:
        """``scale`` (the ×1000 timestep multiplier) is applied inside the float64 sinusoid, not to float32 σ."""
        embedded_timestep = self.emb(timestep, hidden_dtype, scale)
        return self.linear(nn.silu(embedded_timestep)), embedded_timestep


def distinct_rows(values: mx.array) -> tuple[mx.array, mx.array]:
    """(N,) → (the U distinct values, (N,) index of each value among them), compared bit for bit.

    Evaluates ``values`` (per-token timesteps, a tiny graph): the pipelines pass one value per sample (T2V)
    or two (I2V), so the AdaLN MLP and projection then run on U rows instead of N."""
    bits = np.array(mx.view(values, _BITS[values.dtype.size]))
    _, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
    return values[mx.array(first.astype(np.uint32))], mx.array(inverse.reshape(-1).astype(np.uint32))
