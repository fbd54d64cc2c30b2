"""Image-to-video: a latent replaces target latent frames (ports ltx_core/conditioning/types/latent_cond.py)."""

from __future__ import annotations

from dataclasses import replace

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError, check_latent, check_strength
from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.types import LatentState


def _splice(x: mx.array, start: int, values: mx.array) -> mx.array:
    """``x`` with tokens [start, start + len(values)) replaced (a new array: states are shared, never mutated)."""
    return mx.concatenate([x[:, :start], values, x[:, start + values.shape[1] :]], axis=1)


class VideoConditionByLatentIndex:
    """Put ``latent`` (B, F, H, W, C) at latent frame ``latent_idx``: its tokens become the clean latent there and
    the denoise mask becomes ``1 − strength`` (strength 1: the tokens get timestep 0 and stay clean)."""

    def __init__(self, latent: mx.array, strength: float, latent_idx: int):
        self.latent = latent
        self.strength = check_strength(strength)
        if latent_idx < 0:
            raise ConditioningError(f"latent_idx={latent_idx} must be >= 0")
        self.latent_idx = latent_idx

    def frames(self) -> range:
        """The target latent frames this item replaces."""
        return range(self.latent_idx, self.latent_idx + self.latent.shape[1])

    def apply_to(self, latent_state: LatentState, latent_tools: VideoLatentTools) -> LatentState:
        check_latent(self.latent.shape, latent_tools, "image", same_size=True)
        target = latent_tools.target_shape
        if self.frames().stop > target.frames:
            raise ConditioningError(
                f"latent_idx={self.latent_idx} with {self.latent.shape[1]} latent frame(s) is past the target's "
                f"{target.frames} latent frames"
            )
        tokens = latent_tools.patchifier.patchify(self.latent)
        start = latent_tools.patchifier.get_token_count(target._replace(frames=self.latent_idx))
        mask = mx.full(
            (tokens.shape[0], tokens.shape[1], 1), 1.0 - self.strength, dtype=latent_state.denoise_mask.dtype
        )
        return replace(
            latent_state,
            clean_latent=_splice(latent_state.clean_latent, start, tokens.astype(latent_state.clean_latent.dtype)),
            denoise_mask=_splice(latent_state.denoise_mask, start, mask),
        )
