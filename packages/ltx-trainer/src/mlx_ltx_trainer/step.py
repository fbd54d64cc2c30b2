"""One training micro-step (trainer.py 365-408): the strategy's inputs, the velocity model's forward, the
per-sample loss, and the gradients of ``mean(loss)·scale`` w.r.t. the trainable (LoRA) parameters.

The batch's ``conditions`` hold the text features as preprocessing stores them, *before* the connectors; with
``connectors`` (the model's ``EmbeddingsProcessor``, feature extractor unused) they run first in every step, as the
reference's ``_training_step`` does. They are not trained (no parameter of theirs is in the optimizer), so they run
outside the differentiated function: the LoRA gradients are the same. Without ``connectors`` the conditions are
taken as contexts already (post-connector data). The random draws happen in ``prepare_training_inputs``, also
outside the differentiated function.
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


def apply_connectors(batch: dict[str, Any], connectors: Any) -> dict[str, Any]:
    """``batch`` with its conditions run through ``connectors.video_embeddings_connector`` /
    ``audio_embeddings_connector`` (trainer.py 367-387): valid tokens first, registers in the padding, the video
    context times the connector's binary mask, which becomes ``prompt_attention_mask``. A legacy single
    ``prompt_embeds`` feeds both connectors."""
    cond = batch["conditions"]
    video = cond["video_prompt_embeds"] if "video_prompt_embeds" in cond else cond["prompt_embeds"]
    audio = cond.get("audio_prompt_embeds") if "video_prompt_embeds" in cond else cond["prompt_embeds"]
    mask = cond["prompt_attention_mask"]
    audio_connector = getattr(connectors, "audio_embeddings_connector", None)
    if (audio is None) != (audio_connector is None):
        raise ValueError(
            "conditions: audio_prompt_embeds "
            + (
                "missing for the model's audio connector"
                if audio is None
                else "given but the model has no audio connector"
            )
        )
    video, binary = connectors.video_embeddings_connector(video, mask)
    out = {"video_prompt_embeds": video * binary[..., None].astype(video.dtype), "prompt_attention_mask": binary}
    if audio_connector is not None:
        out["audio_prompt_embeds"] = audio_connector(audio, mask)[0]
    return {**batch, "conditions": out}


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
    connectors: Any = None,
) -> tuple[mx.array, Any, ModelInputs]:
    """(per-sample loss (B,), gradients of ``mean(loss)·loss_scale`` w.r.t. the trainable parameters, inputs)."""
    if connectors is not None:
        batch = apply_connectors(batch, connectors)
    inputs = strategy.prepare_training_inputs(batch, sampler, draws)

    def objective(m: nn.Module) -> tuple[mx.array, mx.array]:
        vp, ap = model_forward(m, inputs, compute_dtype)
        per_sample = strategy.compute_loss(vp, ap, inputs)
        return per_sample.mean() * loss_scale, per_sample

    (_, per_sample), grads = nn.value_and_grad(model, objective)(model)
    return per_sample, grads, inputs
