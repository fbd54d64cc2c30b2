"""Carried audio kept clean at a latent frame: the trainer's audio ``prefix`` / ``suffix`` conditions (ports the audio
branch of ltx_trainer/validation_runner.py ``_apply_audio_conditionings``, v1.2.0)."""

from __future__ import annotations

from dataclasses import replace

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError, check_strength
from mlx_ltx_pipelines.latent_tools import AudioLatentTools
from mlx_ltx_pipelines.types import LatentState


def _splice(x: mx.array, start: int, values: mx.array) -> mx.array:
    return mx.concatenate([x[:, :start], values, x[:, start + values.shape[1] :]], axis=1)


class AudioConditionByLatentIndex:
    """Put ``latent`` (B, T, mel_bins, C) at audio latent frame ``latent_idx``: its tokens become the clean latent there
    and the denoise mask ``1 − strength`` (the trainer writes strength 1: mask 0)."""

    def __init__(self, latent: mx.array, latent_idx: int, strength: float = 1.0):
        if latent_idx < 0:
            raise ConditioningError(f"latent_idx={latent_idx} must be >= 0")
        self.latent, self.latent_idx, self.strength = latent, latent_idx, check_strength(strength)

    def apply_to(self, latent_state: LatentState, latent_tools: AudioLatentTools) -> LatentState:
        tokens = latent_tools.patchifier.patchify(self.latent)
        if self.latent_idx + tokens.shape[1] > latent_tools.target_shape.frames:
            raise ConditioningError(
                f"audio latent of {tokens.shape[1]} frames at latent_idx={self.latent_idx} is past the target's "
                f"{latent_tools.target_shape.frames} frames"
            )
        mask = mx.full((*tokens.shape[:2], 1), 1.0 - self.strength, dtype=latent_state.denoise_mask.dtype)
        return replace(
            latent_state,
            clean_latent=_splice(
                latent_state.clean_latent, self.latent_idx, tokens.astype(latent_state.clean_latent.dtype)
            ),
            denoise_mask=_splice(latent_state.denoise_mask, self.latent_idx, mask),
        )
