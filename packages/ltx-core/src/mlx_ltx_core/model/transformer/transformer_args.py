"""Per-modality block inputs: patchify, AdaLN timesteps, context, masks, RoPE (ports transformer_args.py).

The A/V cross-attention AdaLN follows Lightricks v1.2.0: scale/shift read this modality's own per-token
timesteps, the gate reads the other modality's sigma.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.adaln import AdaLayerNormSingle, distinct_rows
from mlx_ltx_core.model.transformer.constants import ConstantsCache, cached
from mlx_ltx_core.model.transformer.modality import Modality
from mlx_ltx_core.model.transformer.rope import LTXRopeType, precompute_freqs_cis


@dataclass(frozen=True)
class TransformerArgs:
    """What every block reads for one modality (shapes for B samples, T tokens, L context tokens, width D)."""

    x: mx.array  # (B, T, D) hidden tokens
    context: mx.array  # (B, L, D) prompt embeddings at the stream's width
    context_mask: mx.array | None  # (B, 1, 1, L) additive bias
    timesteps: mx.array  # (B, T, coef·D) AdaLN modulation
    embedded_timestep: mx.array  # (B, T, D) for the output modulation
    positional_embeddings: tuple[mx.array, mx.array]  # RoPE (cos, sin)
    cross_positional_embeddings: tuple[mx.array, mx.array] | None  # time-only RoPE for A/V attention
    cross_scale_shift_timestep: mx.array | None  # (B, T, 4·D)
    cross_gate_timestep: mx.array | None  # (B, 1, D)
    enabled: bool
    prompt_timestep: mx.array | None = None  # (B, 1, 2·D), LTX-2.3 prompt AdaLN
    self_attention_mask: mx.array | None = None  # (B, 1, T, T) additive log-strength bias
    text_kv_cache: ConstantsCache | None = None  # the stage's cache when text K/V are reused across steps


@dataclass(frozen=True)
class ModalityModules:
    """The modules one modality's preprocessing reads, looked up at call time (quantization replaces modules)."""

    patchify_proj: nn.Module
    adaln: AdaLayerNormSingle
    caption_projection: nn.Module | None
    prompt_adaln: AdaLayerNormSingle | None
    cross_scale_shift_adaln: AdaLayerNormSingle | None
    cross_gate_adaln: AdaLayerNormSingle | None
    keyframes_embedding: mx.array | None = None  # (1, D) LTX-2.5 keyframe marker, video stream only


@dataclass(frozen=True)
class PreprocessorConfig:
    name: str  # "video" or "audio": keys this stream's cached constants
    inner_dim: int
    num_attention_heads: int
    max_pos: list[int]
    theta: float
    rope_type: LTXRopeType
    double_precision_rope: bool
    timestep_scale_multiplier: float
    cross_pe_max_pos: int | None = None
    audio_cross_attention_dim: int | None = None
    av_ca_timestep_scale_multiplier: float = 1.0
    distinct_timesteps: bool = True  # AdaLN on each distinct timestep once, gathered per token (same bits)
    dtype: mx.Dtype | None = None  # the compute dtype (the weights'); None: the latent's


def prepare(
    m: ModalityModules,
    cfg: PreprocessorConfig,
    modality: Modality,
    cross_modality: Modality | None,
    cache: ConstantsCache | None = None,
) -> TransformerArgs:
    """Everything the blocks need for ``modality``; A/V inputs only when ``cross_modality`` is given. With a
    ``cache`` (inside a stage), what depends only on the positions, context and masks is computed once."""
    dtype = cfg.dtype or modality.latent.dtype
    latent = modality.latent.astype(dtype)  # float32 sampler state, bf16 / fp16 weights: matmuls in the weights'
    x = keyframes_embedding(m.patchify_proj(latent), modality.keyframes_mask, m.keyframes_embedding)
    batch = x.shape[0]
    # σ·1000 is formed inside the float64 sinusoid (``mult``): a float32 product would be off by ~6e-5 rad there
    timesteps, mult = modality.timesteps, cfg.timestep_scale_multiplier
    rows = distinct_rows(timesteps.reshape(-1)) if cfg.distinct_timesteps else None
    timestep, embedded = _timestep(m.adaln, timesteps, batch, dtype, rows, mult)
    prompt_timestep = None
    if m.prompt_adaln is not None:
        sigma = _per_sample(modality.sigma, batch)
        prompt_timestep, _ = _timestep(m.prompt_adaln, sigma, batch, dtype, scale=mult)
    # One array per stage (reshape included): the text K/V cache is keyed by it.
    context = cached(cache, f"{cfg.name}.context", (modality.context,), lambda: _context(m, modality, x))
    pe = cached(cache, f"{cfg.name}.rope", (modality.positions,), lambda: _rope(cfg, modality.positions, dtype))
    mask, attention = modality.context_mask, modality.attention_mask
    args = TransformerArgs(
        x=x,
        context=context,
        context_mask=cached(cache, f"{cfg.name}.context_bias", (mask,), lambda: context_bias(mask, dtype)),
        timesteps=timestep,
        embedded_timestep=embedded,
        positional_embeddings=pe,
        cross_positional_embeddings=None,
        cross_scale_shift_timestep=None,
        cross_gate_timestep=None,
        enabled=modality.enabled,
        prompt_timestep=prompt_timestep,
        self_attention_mask=cached(
            cache, f"{cfg.name}.self_bias", (modality.attention_mask,), lambda: self_attention_bias(attention, dtype)
        ),
        text_kv_cache=cache if cache is not None and cache.text_kv else None,
    )
    if cross_modality is None or m.cross_scale_shift_adaln is None:
        return args
    return _with_cross_attention_inputs(m, cfg, args, modality, cross_modality, cache, rows)


def _context(m: ModalityModules, modality: Modality, x: mx.array) -> mx.array:
    """(B, L, D_ctx) prompt embeddings → (B, L, D) at the stream's width and ``x``'s dtype (caption projection
    when there is one)."""
    context = modality.context.astype(x.dtype)
    context = context if m.caption_projection is None else m.caption_projection(context)
    return context.reshape(x.shape[0], -1, x.shape[-1])


def keyframes_embedding(x: mx.array, keyframes_mask: mx.array | None, embedding: mx.array | None) -> mx.array:
    """(B, T, D) projected tokens + the (1, D) embedding on tokens whose (B, T, 1) mask is > 0; else ``x``."""
    if keyframes_mask is None or embedding is None:
        return x
    marked = (keyframes_mask > 0).astype(x.dtype)
    return x + marked.reshape(*marked.shape[:2], 1) * embedding.astype(x.dtype)


def _rope(cfg: PreprocessorConfig, positions: mx.array, dtype: mx.Dtype) -> tuple[mx.array, mx.array]:
    return precompute_freqs_cis(
        positions,
        cfg.inner_dim,
        dtype,
        cfg.theta,
        cfg.max_pos,
        cfg.num_attention_heads,
        cfg.rope_type,
        cfg.double_precision_rope,
    )


def _with_cross_attention_inputs(
    m: ModalityModules,
    cfg: PreprocessorConfig,
    args: TransformerArgs,
    modality: Modality,
    cross: Modality,
    cache: ConstantsCache | None,
    rows: tuple[mx.array, mx.array] | None,
) -> TransformerArgs:
    dtype, batch = args.x.dtype, args.x.shape[0]
    cross_pe = cached(
        cache, f"{cfg.name}.cross_rope", (modality.positions,), lambda: _cross_rope(cfg, modality.positions, dtype)
    )
    mult = cfg.timestep_scale_multiplier
    assert m.cross_scale_shift_adaln is not None and m.cross_gate_adaln is not None  # A/V models have both
    scale_shift, _ = _timestep(m.cross_scale_shift_adaln, modality.timesteps, batch, dtype, rows, mult)
    # The gate's input is scaled by av_ca_timestep_scale_multiplier instead (1000 in LTX-2/2.3 checkpoints).
    gate_scale = mult * (cfg.av_ca_timestep_scale_multiplier / mult)
    gate, _ = _timestep(m.cross_gate_adaln, _per_sample(cross.sigma, batch), batch, dtype, scale=gate_scale)
    return TransformerArgs(
        **{
            **args.__dict__,
            "cross_positional_embeddings": cross_pe,
            "cross_scale_shift_timestep": scale_shift,
            "cross_gate_timestep": gate,
        }
    )


def _cross_rope(cfg: PreprocessorConfig, positions: mx.array, dtype: mx.Dtype) -> tuple[mx.array, mx.array]:
    """Time-only RoPE for the A/V cross-attention, on the wider of the two streams' time ranges."""
    assert cfg.audio_cross_attention_dim is not None and cfg.cross_pe_max_pos is not None  # set for A/V models
    return precompute_freqs_cis(
        positions[:, 0:1],
        cfg.audio_cross_attention_dim,
        dtype,
        cfg.theta,
        [cfg.cross_pe_max_pos],
        cfg.num_attention_heads,
        cfg.rope_type,
        cfg.double_precision_rope,
    )


def _timestep(
    adaln: AdaLayerNormSingle,
    timesteps: mx.array,
    batch: int,
    dtype: mx.Dtype,
    rows: tuple[mx.array, mx.array] | None = None,
    scale: float = 1.0,
) -> tuple[mx.array, mx.array]:
    """AdaLN of ``timesteps·scale`` (B, T[, 1]) per token; with ``rows`` (its ``distinct_rows``) on those, then
    gathered. Float32 timesteps are scaled inside the float64 sinusoid; bf16/f16 ones in their own dtype, as the
    reference does (its rounding puts σ·1000 on the bf16 grid, which the bf16 goldens reflect)."""
    values = timesteps.reshape(-1) if rows is None else rows[0]
    if mx.finfo(values.dtype).bits < 32:
        values, scale = values * scale, 1.0
    modulation, embedded = adaln(values, dtype, scale)
    if rows is not None:
        modulation, embedded = modulation[rows[1]], embedded[rows[1]]
    return modulation.reshape(batch, -1, modulation.shape[-1]), embedded.reshape(batch, -1, embedded.shape[-1])


def _per_sample(sigma: mx.array, batch: int) -> mx.array:
    sigma = mx.array(sigma) if not isinstance(sigma, mx.array) else sigma
    if sigma.size not in (1, batch):
        raise ValueError(f"sigma has {sigma.size} values for a batch of {batch}; pass one per sample")
    return mx.broadcast_to(sigma.reshape(-1), (batch,))


def context_bias(context_mask: mx.array | None, dtype: mx.Dtype) -> mx.array | None:
    """(B, L) 1/0 token mask → (B, 1, 1, L) additive bias (0 or −max); a float mask is already a bias."""
    if context_mask is None or mx.issubdtype(context_mask.dtype, mx.floating):
        return context_mask
    bias = (context_mask - 1).astype(dtype) * mx.finfo(dtype).max
    return bias.reshape(context_mask.shape[0], 1, -1, context_mask.shape[-1])


def self_attention_bias(attention_mask: mx.array | None, dtype: mx.Dtype) -> mx.array | None:
    """(B, T, T) strengths in [0, 1] → (B, 1, T, T) additive log bias; strength ≤ 0 is fully masked."""
    if attention_mask is None:
        return None
    mask = attention_mask.astype(dtype)
    finfo = mx.finfo(dtype)
    logs = mx.log(mx.maximum(mask, mx.array(finfo.smallest_normal, dtype)))
    return mx.where(mask > 0, logs, mx.array(finfo.min, dtype))[:, None]
