"""Gemma 4, the LTX-2.5 text encoder's ``gemma4_unified`` text tower, through mlx-lm's ``gemma4_text`` modules
(ports what ltx_core's LTXGemmaTextEncoder.encode runs: transformers' ``Gemma4UnifiedModel(...,
output_hidden_states=True)``, transformers 5.8–5.14 as the reference pins).

mlx-lm's ``Gemma4TextModel.__call__`` builds causal masks only and returns the final norm alone, so its layers are
driven here with transformers' semantics (the layer math — ``layer_scalar``, ``v_norm`` without weight, K = V on
global layers, scale 1, proportional RoPE on the global layers' first quarter — is mlx-lm's own):

* embeddings × √hidden_size cast to the embedding dtype;
* positions 0…T−1 whatever the padding; key j visible to query i when j ≤ i, j is not padding and, on sliding
  layers, i − j < sliding_window; a query that sees no key (a left pad) gets a zero attention output (torch's SDPA);
* all L + 1 hidden states: the embeddings, the outputs of layers 0 … L−2, the final norm of layer L−1's output.

The config and the weights are read by ``gemma4_loading.py``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mlx.core as mx

from mlx_ltx_text.gemma import attention_mask_4d

if TYPE_CHECKING:  # mlx_lm imports transformers (seconds): only when a model is built
    from mlx_lm.models import gemma4_text


def _attention(attn: gemma4_text.Attention, x: mx.array, mask: mx.array, row_valid: mx.array) -> mx.array:
    b, t, _ = x.shape
    q = attn.q_norm(attn.q_proj(x).reshape(b, t, attn.n_heads, attn.head_dim)).transpose(0, 2, 1, 3)
    k = attn.k_proj(x).reshape(b, t, attn.n_kv_heads, attn.head_dim)
    v = k if attn.use_k_eq_v else attn.v_proj(x).reshape(b, t, attn.n_kv_heads, attn.head_dim)  # raw K (global)
    k = attn.rope(attn.k_norm(k).transpose(0, 2, 1, 3))
    v = attn.v_norm(v).transpose(0, 2, 1, 3)
    out = mx.fast.scaled_dot_product_attention(attn.rope(q), k, v, scale=attn.scale, mask=mask)
    out = out * row_valid.astype(out.dtype)
    return attn.o_proj(out.transpose(0, 2, 1, 3).reshape(b, t, -1))


def _layer(layer: gemma4_text.DecoderLayer, h: mx.array, mask: mx.array, row_valid: mx.array) -> mx.array:
    h = h + layer.post_attention_layernorm(_attention(layer.self_attn, layer.input_layernorm(h), mask, row_valid))
    h = h + layer.post_feedforward_layernorm(layer.mlp(layer.pre_feedforward_layernorm(h)))
    return h * layer.layer_scalar.astype(h.dtype)


def gemma4_hidden_states(model: gemma4_text.Model, input_ids: mx.array, attention_mask: mx.array) -> mx.array:
    """``input_ids`` and ``attention_mask`` (B, T) → hidden states stacked on the last axis, (B, T, D, L + 1)."""
    lm = model.model
    h = lm.embed_tokens(input_ids)
    h = h * mx.array(math.sqrt(model.args.hidden_size), dtype=mx.float32).astype(h.dtype)
    masks = {
        "full_attention": attention_mask_4d(attention_mask, None),
        "sliding_attention": attention_mask_4d(attention_mask, model.args.sliding_window),
    }
    states = [h]
    for layer in lm.layers:
        h = _layer(layer, h, *masks[layer.layer_type])
        states.append(h)
    states[-1] = lm.norm(h)
    return mx.stack(states, axis=-1)
