"""All hidden states of Gemma 3 for a left-padded batch (ports the forward that ltx_core's GemmaTextEncoder.encode
runs: transformers' ``Gemma3Model(..., output_hidden_states=True)``).

mlx-lm's ``Gemma3Model.__call__`` builds causal masks only and rounds the embedding scale to bfloat16, so the
layers of its ``gemma3_text.Model`` are driven here with transformers' semantics:

* embeddings × √hidden_size cast to the embedding dtype (61.97 in float32, 62.0 in bfloat16);
* positions 0…T−1 whatever the padding;
* key j is visible to query i when j ≤ i, j is not padding and, on sliding layers, i − j < sliding_window;
* a query that sees no key (a left pad) gets a zero attention output, as torch's SDPA returns.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mlx.core as mx

if TYPE_CHECKING:  # mlx_lm imports transformers (seconds): only when a model is loaded
    from mlx_lm.models import gemma3_text


def attention_mask_4d(attention_mask: mx.array, window: int | None) -> tuple[mx.array, mx.array]:
    """(B, T) 0/1 → boolean mask (B, 1, T, T) and ``row_valid`` (B, 1, T, 1): does the query see any key.

    Rows that see nothing are opened to every key (no NaN) and zeroed afterwards with ``row_valid``.
    """
    t = attention_mask.shape[1]
    q, k = mx.arange(t)[:, None], mx.arange(t)[None, :]
    allowed = k <= q
    if window is not None:
        allowed = allowed & (q - k < window)
    allowed = allowed[None, None] & attention_mask.astype(mx.bool_)[:, None, None, :]
    row_valid = allowed.any(axis=-1, keepdims=True)
    return allowed | ~row_valid, row_valid


def _attention(attn: gemma3_text.Attention, x: mx.array, mask: mx.array, row_valid: mx.array) -> mx.array:
    b, t, _ = x.shape
    q = attn.q_norm(attn.q_proj(x).reshape(b, t, attn.n_heads, -1).transpose(0, 2, 1, 3))
    k = attn.k_norm(attn.k_proj(x).reshape(b, t, attn.n_kv_heads, -1).transpose(0, 2, 1, 3))
    v = attn.v_proj(x).reshape(b, t, attn.n_kv_heads, -1).transpose(0, 2, 1, 3)
    q, k = attn.rope(q), attn.rope(k)
    out = mx.fast.scaled_dot_product_attention(q, k, v, scale=attn.scale, mask=mask)
    out = out * row_valid.astype(out.dtype)
    return attn.o_proj(out.transpose(0, 2, 1, 3).reshape(b, t, -1))


def _layer(layer: gemma3_text.TransformerBlock, h: mx.array, mask: mx.array, row_valid: mx.array) -> mx.array:
    h = h + layer.post_attention_layernorm(_attention(layer.self_attn, layer.input_layernorm(h), mask, row_valid))
    return h + layer.post_feedforward_layernorm(layer.mlp(layer.pre_feedforward_layernorm(h)))


def gemma_hidden_states(model: gemma3_text.Model, input_ids: mx.array, attention_mask: mx.array) -> mx.array:
    """``input_ids`` and ``attention_mask`` (B, T) → hidden states stacked on the last axis, (B, T, D, L + 1):

    the scaled embeddings, the outputs of layers 0 … L−2, and the final norm of layer L−1's output.
    """
    lm = model.model
    h = lm.embed_tokens(input_ids)
    h = h * mx.array(math.sqrt(model.args.hidden_size), dtype=mx.float32).astype(h.dtype)
    masks = {
        False: attention_mask_4d(attention_mask, None),
        True: attention_mask_4d(attention_mask, model.args.sliding_window),
    }
    states = [h]
    for layer in lm.layers:
        h = _layer(layer, h, *masks[layer.self_attn.is_sliding])
        states.append(h)
    states[-1] = lm.norm(h)
    return mx.stack(states, axis=-1)
