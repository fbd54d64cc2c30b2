"""One training micro-step (trainer.py 365-408): the strategy's inputs, the velocity model's forward, the
per-sample loss, and the gradients of ``mean(loss)·scale`` w.r.t. the trainable (LoRA) parameters.

The random draws happen in ``prepare_training_inputs``, outside the differentiated function; the text
connectors are not trained, so the contexts in the batch may be computed before the step (same gradients).
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer import Modality
from mlx_ltx_trainer.draws import Draws
from mlx_ltx_trainer.strategy import FlexibleStrategy, ModelInputs
from mlx_ltx_trainer.timestep_samplers import TimestepSampler


def _as(m: Modality | None, dtype: mx.Dtype | None) -> Modality | None:
    if m is None or dtype is None:
        return m
    return Modality(
        latent=m.latent.astype(dtype),
        sigma=m.sigma.astype(dtype),
        timesteps=m.timesteps.astype(dtype),
        positions=m.positions,
        context=m.context.astype(dtype),
        context_mask=m.context_mask,
    )


def model_forward(
    model: nn.Module, inputs: ModelInputs, compute_dtype: mx.Dtype | None = None
) -> tuple[mx.array | None, mx.array | None]:
    """(v_video, v_audio) as float32 (Accelerate's ``convert_outputs_to_fp32``); ``compute_dtype`` casts the
    latents, σ, timesteps and contexts first (MLX has no autocast: bf16 training casts explicitly)."""
    vp, ap = model(_as(inputs.video, compute_dtype), _as(inputs.audio, compute_dtype))
    return (
        None if vp is None else vp.astype(mx.float32),
        None if ap is None else ap.astype(mx.float32),
    )


def loss_and_grads(
    model: nn.Module,
    strategy: FlexibleStrategy,
    batch: dict[str, Any],
    sampler: TimestepSampler,
    draws: Draws,
    loss_scale: float = 1.0,
    compute_dtype: mx.Dtype | None = None,
) -> tuple[mx.array, Any, ModelInputs]:
    """(per-sample loss (B,), gradients of ``mean(loss)·loss_scale`` w.r.t. the trainable parameters, inputs)."""
    inputs = strategy.prepare_training_inputs(batch, sampler, draws)

    def objective(m: nn.Module) -> tuple[mx.array, mx.array]:
        vp, ap = model_forward(m, inputs, compute_dtype)
        per_sample = strategy.compute_loss(vp, ap, inputs)
        return per_sample.mean() * loss_scale, per_sample

    (_, per_sample), grads = nn.value_and_grad(model, objective)(model)
    return per_sample, grads, inputs
