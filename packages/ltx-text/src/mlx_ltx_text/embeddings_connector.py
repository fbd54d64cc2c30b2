"""1-D transformer over prompt features, registers (ports ltx_core/text_encoders/gemma/embeddings_connector.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.attention import Attention
from mlx_ltx_core.model.transformer.feed_forward import FeedForward
from mlx_ltx_core.model.transformer.rope import LTXRopeType, precompute_freqs_cis
from mlx_ltx_core.utils import rms_norm


class _BasicTransformerBlock1D(nn.Module):
    """Pre-norm (RMS, no weight) self-attention and feed-forward, each with a residual."""

    def __init__(self, dim: int, heads: int, dim_head: int, rope_type: LTXRopeType, apply_gated_attention: bool):
        super().__init__()
        self.attn1 = Attention(
            query_dim=dim,
            heads=heads,
            dim_head=dim_head,
            rope_type=rope_type,
            apply_gated_attention=apply_gated_attention,
        )
        self.ff = FeedForward(dim, dim_out=dim)

    def __call__(self, hidden_states: mx.array, pe: tuple[mx.array, mx.array]) -> mx.array:
        hidden_states = hidden_states + self.attn1(rms_norm(hidden_states), pe=pe)
        return hidden_states + self.ff(rms_norm(hidden_states))


class Embeddings1DConnector(nn.Module):
    """Moves the valid tokens to the front, fills the rest with ``learnable_registers`` and runs the blocks.

    The reference also accepts ``num_learnable_registers=None`` (attention masked instead); every LTX
    checkpoint has 128 registers, so that path is not ported.
    """

    def __init__(
        self,
        attention_head_dim: int = 128,
        num_attention_heads: int = 30,
        num_layers: int = 2,
        positional_embedding_theta: float = 10000.0,
        positional_embedding_max_pos: list[int] | None = None,
        num_learnable_registers: int = 128,
        rope_type: LTXRopeType = LTXRopeType.INTERLEAVED,
        double_precision_rope: bool = False,
        apply_gated_attention: bool = False,
    ):
        super().__init__()
        if not num_learnable_registers or num_learnable_registers < 1:
            raise ValueError(f"num_learnable_registers={num_learnable_registers!r} must be a positive int (e.g. 128)")
        if attention_head_dim % 2:
            raise ValueError(f"attention_head_dim={attention_head_dim} must be even for rotary embeddings")
        self.num_attention_heads = num_attention_heads
        self.inner_dim = num_attention_heads * attention_head_dim
        self.positional_embedding_theta = positional_embedding_theta
        self.positional_embedding_max_pos = list(positional_embedding_max_pos or [1])
        self.rope_type = rope_type
        self.double_precision_rope = double_precision_rope
        self.transformer_1d_blocks = [
            _BasicTransformerBlock1D(
                self.inner_dim, num_attention_heads, attention_head_dim, rope_type, apply_gated_attention
            )
            for _ in range(num_layers)
        ]
        self.learnable_registers = mx.zeros((num_learnable_registers, self.inner_dim))

    def __call__(self, hidden_states: mx.array, attention_mask: mx.array) -> tuple[mx.array, mx.array]:
        """(B, T, inner_dim) features and (B, T) binary mask → (B, T, inner_dim) and the new mask (all ones).

        T must be a multiple of the register count (the tokenizer pads to 1024 = 8 × 128).
        """
        hidden_states = self._replace_padded_with_learnable_registers(hidden_states, attention_mask)
        pe = self._rope(hidden_states.shape[1], hidden_states.dtype)
        for block in self.transformer_1d_blocks:
            hidden_states = block(hidden_states, pe)
        return rms_norm(hidden_states), mx.ones(attention_mask.shape, dtype=mx.int32)

    def _replace_padded_with_learnable_registers(self, hidden_states: mx.array, attention_mask: mx.array) -> mx.array:
        t = hidden_states.shape[1]
        n_registers = self.learnable_registers.shape[0]
        if t % n_registers:
            raise ValueError(f"sequence length {t} must be a multiple of num_learnable_registers={n_registers}")
        valid = attention_mask.astype(mx.int32)
        # Valid tokens first, in order (a stable sort by "is padding"), then position p ≥ n_valid gets register p mod R.
        order = mx.argsort((1 - valid) * t + mx.arange(t), axis=1)
        moved = mx.take_along_axis(hidden_states, order[..., None], axis=1)
        keep = mx.arange(t)[None, :] < valid.sum(axis=1, keepdims=True)
        registers = mx.tile(self.learnable_registers, (t // n_registers, 1)).astype(hidden_states.dtype)
        return mx.where(keep[..., None], moved, registers)

    def _rope(self, t: int, dtype: mx.Dtype) -> tuple[mx.array, mx.array]:
        positions = mx.arange(t, dtype=mx.float32)[None, None, :]  # (1, 1, T): token index, one position axis
        return precompute_freqs_cis(
            positions,
            dim=self.inner_dim,
            out_dtype=dtype,
            theta=self.positional_embedding_theta,
            max_pos=self.positional_embedding_max_pos,
            num_attention_heads=self.num_attention_heads,
            rope_type=self.rope_type,
            double_precision=self.double_precision_rope,
            use_middle_indices_grid=False,
        )
