"""The block's elementwise chains, fused with ``mx.compile`` (no reference counterpart; same arithmetic).

Each runs once per block and stream at every step; fused, a chain reads its inputs once and writes one output
instead of materialising every intermediate. benchmarks/compiled_ops.py times each plain and compiled (on CPU,
bit-identical results: modulation 1.1-1.4x, RoPE 1.5-2x; the head gate 0.9-1.4x between runs); the gated residual
``x + y·gate`` (0.98-1.24x) stays plain. A whole 2-layer forward: 1.05-1.16x (benchmarks/README.md).
The ``*_plain`` functions are the uncompiled originals, for benchmarks and tests.
"""

from __future__ import annotations

import mlx.core as mx

from mlx_ltx_core.model.transformer.rope import apply_interleaved_rotary_emb, apply_split_rotary_emb


def scale_shift_plain(x: mx.array, scale: mx.array, shift: mx.array) -> mx.array:
    """AdaLN modulation of an already normalised ``x``: ``x·(1 + scale) + shift``."""
    return x * (1 + scale) + shift


def modulate_plain(x: mx.array, scale: mx.array, shift: mx.array, eps: float) -> mx.array:
    """AdaLN: ``rms_norm(x)·(1 + scale) + shift``."""
    return scale_shift_plain(mx.fast.rms_norm(x, None, eps), scale, shift)


def head_gate_plain(out: mx.array, logits: mx.array, heads: int) -> mx.array:
    """LTX-2.3's per-head gate: out (B, T, H·d) scaled per head by ``2·sigmoid(logits)`` (B, T, H); 2·sigmoid so a
    zero-initialised gate is the identity."""
    b, t, _ = out.shape
    return (out.reshape(b, t, heads, -1) * (2.0 * mx.sigmoid(logits))[..., None]).reshape(b, t, -1)


def gated_residual_plain(x: mx.array, y: mx.array, gate: mx.array) -> mx.array:
    """``x + y·gate`` (measured, not compiled: no gain)."""
    return x + y * gate


split_rope_plain, interleaved_rope_plain = apply_split_rotary_emb, apply_interleaved_rotary_emb

scale_shift = mx.compile(scale_shift_plain)
modulate = mx.compile(modulate_plain)
head_gate = mx.compile(head_gate_plain)
split_rope = mx.compile(apply_split_rotary_emb)
interleaved_rope = mx.compile(apply_interleaved_rotary_emb)
gated_residual = mx.compile(gated_residual_plain)  # benchmarks only
