"""Multi-head attention: q/k RMSNorm, RoPE, optional per-head gate (ports ltx_core/model/transformer/attention.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer import ops
from mlx_ltx_core.model.transformer.rope import LTXRopeType


class Attention(nn.Module):
    # Sequence parallelism (sequence_parallel.py) sets this while a call runs: (B, H, S_local, d) keys / values of
    # this rank → (B, H, S, d) of every rank, after RoPE, so each query attends to every token.
    gather_kv: Callable[[mx.array], mx.array] | None = None

    def __init__(
        self,
        query_dim: int,
        context_dim: int | None = None,
        heads: int = 8,
        dim_head: int = 64,
        norm_eps: float = 1e-6,
        rope_type: LTXRopeType = LTXRopeType.INTERLEAVED,
        apply_gated_attention: bool = False,
    ):
        super().__init__()
        inner_dim = heads * dim_head
        context_dim = query_dim if context_dim is None else context_dim
        self.heads, self.dim_head, self.rope_type = heads, dim_head, rope_type
        # q/k norms span all heads at once (torch.nn.RMSNorm(inner_dim)), with a learned weight.
        self.q_norm = nn.RMSNorm(inner_dim, eps=norm_eps)
        self.k_norm = nn.RMSNorm(inner_dim, eps=norm_eps)
        self.to_q = nn.Linear(query_dim, inner_dim)
        self.to_k = nn.Linear(context_dim, inner_dim)
        self.to_v = nn.Linear(context_dim, inner_dim)
        if apply_gated_attention:
            self.to_gate_logits = nn.Linear(query_dim, heads)
        self.to_out = [nn.Linear(inner_dim, query_dim)]

    def __call__(
        self,
        x: mx.array,
        context: mx.array | None = None,
        mask: mx.array | None = None,
        pe: tuple[mx.array, mx.array] | None = None,
        k_pe: tuple[mx.array, mx.array] | None = None,
        perturbation_mask: mx.array | None = None,
        all_perturbed: bool = False,
        kv: tuple[mx.array, mx.array] | None = None,
    ) -> mx.array:
        """x (B, T, query_dim), context (B, S, context_dim) → (B, T, query_dim).

        ``mask`` is an additive bias broadcastable to (B, H, T, S). ``perturbation_mask`` (B, 1, 1) blends
        attention with the value projection (0 = skip attention for that sample); ``all_perturbed`` skips the
        query/key path for the whole batch. ``kv``: this context's ``context_kv`` (computed earlier), used instead
        of ``context`` (no RoPE, no perturbation).
        """
        if kv is not None:
            out = self._sdpa(self._heads(self.q_norm(self.to_q(x))), *kv, mask)
        else:
            context = x if context is None else context
            v = self.to_v(context)
            if all_perturbed:
                out = v
            else:
                out = self._attend(x, context, v, mask, pe, pe if k_pe is None else k_pe)
                if perturbation_mask is not None:
                    out = out * perturbation_mask + v * (1 - perturbation_mask)
        if "to_gate_logits" in self:
            out = ops.head_gate(out, self.to_gate_logits(x), self.heads)
        return self.to_out[0](out)

    def _attend(self, x, context, v, mask, pe, k_pe) -> mx.array:
        q = self.q_norm(self.to_q(x))
        k = self.k_norm(self.to_k(context))
        if pe is not None and self.rope_type == LTXRopeType.INTERLEAVED:
            q, k = ops.interleaved_rope(q, *pe), ops.interleaved_rope(k, *k_pe)
        q, k, v = (self._heads(t) for t in (q, k, v))
        if pe is not None and self.rope_type == LTXRopeType.SPLIT:
            q, k = ops.split_rope(q, *pe), ops.split_rope(k, *k_pe)
        if self.gather_kv is not None:  # sequence parallel: every rank's keys / values
            k, v = self.gather_kv(k), self.gather_kv(v)
        return self._sdpa(q, k, v, mask)

    def context_kv(self, context: mx.array) -> tuple[mx.array, mx.array]:
        """(B, S, context_dim) → normed K and V, each (B, H, S, d_head): what ``kv`` takes. Without RoPE on the
        keys (text cross-attention) they depend on the context alone, so a stage computes them once per prompt."""
        return self._heads(self.k_norm(self.to_k(context))), self._heads(self.to_v(context))

    def _sdpa(self, q: mx.array, k: mx.array, v: mx.array, mask: mx.array | None) -> mx.array:
        out = mx.fast.scaled_dot_product_attention(q, k, v, scale=1.0 / math.sqrt(self.dim_head), mask=mask)
        b, _, t, _ = out.shape
        return out.swapaxes(1, 2).reshape(b, t, -1)

    def _heads(self, t: mx.array) -> mx.array:
        b, n, _ = t.shape
        return t.reshape(b, n, self.heads, self.dim_head).swapaxes(1, 2)
