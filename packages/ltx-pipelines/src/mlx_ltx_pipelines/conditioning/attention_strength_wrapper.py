"""Attention strength for the tokens another item appends (ports
ltx_core/conditioning/types/attention_strength_wrapper.py)."""

from __future__ import annotations

from dataclasses import replace

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError, ConditioningItem
from mlx_ltx_pipelines.conditioning.mask_utils import update_attention_mask
from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.types import LatentState


class ConditioningItemAttentionStrengthWrapper:
    """Apply ``conditioning`` then set how strongly its new tokens and the noisy tokens attend to each other:
    ``attention_mask`` is a strength in [0, 1] or per new token (M,) / (B, M); the mask becomes the additive
    ``log(mask)`` attention bias in the transformer."""

    def __init__(self, conditioning: ConditioningItem[VideoLatentTools], attention_mask: float | mx.array):
        if isinstance(attention_mask, int | float):
            lo = hi = float(attention_mask)
        else:
            lo, hi = float(attention_mask.min()), float(attention_mask.max())
        if not (lo >= 0.0 and hi <= 1.0):
            raise ConditioningError(f"attention_mask values {lo:g}..{hi:g} must be in [0, 1] (1 = full attention)")
        self.conditioning = conditioning
        self.attention_mask = attention_mask

    def apply_to(self, latent_state: LatentState, latent_tools: VideoLatentTools) -> LatentState:
        new_state = self.conditioning.apply_to(latent_state, latent_tools)
        num_new = new_state.latent.shape[1] - latent_state.latent.shape[1]
        if num_new == 0:
            return new_state
        mask = update_attention_mask(
            latent_state,
            self.attention_mask,
            latent_tools.target_shape.token_count(),
            num_new,
            new_state.latent.shape[0],
            new_state.latent.dtype,
        )
        return replace(new_state, attention_mask=mask)
