"""Regenerate a time span, keep the rest (ports ltx_core/conditioning/types/noise_mask_cond.py, v1.2.0)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError
from mlx_ltx_pipelines.latent_tools import AudioLatentTools, VideoLatentTools
from mlx_ltx_pipelines.patchifiers import get_pixel_coords
from mlx_ltx_pipelines.types import LatentState


@dataclass(frozen=True)
class TemporalRegionMask:
    """``denoise_mask = 1`` for the target tokens whose time span overlaps [start_time, end_time) seconds, 0 for the
    others (they keep their clean latent). Video spans are pixel frames (causal fix) / fps, audio spans are the
    patchifier's seconds."""

    start_time: float  # seconds, inclusive
    end_time: float  # seconds, exclusive
    fps: float

    def __post_init__(self) -> None:
        if not self.start_time < self.end_time:
            raise ConditioningError(f"start_time={self.start_time} must be less than end_time={self.end_time}")

    def apply_to(self, latent_state: LatentState, latent_tools: VideoLatentTools | AudioLatentTools) -> LatentState:
        coords = latent_tools.patchifier.get_patch_grid_bounds(latent_tools.target_shape)  # type: ignore[arg-type]
        if isinstance(latent_tools, VideoLatentTools):
            pixels = get_pixel_coords(coords, latent_tools.scale_factors, latent_tools.causal_fix)
            bounds = pixels[:, 0] / self.fps
        else:
            bounds = coords[:, 0]
        inside = (bounds[..., 1] > self.start_time) & (bounds[..., 0] < self.end_time)  # (B, N)
        n = inside.shape[1]
        mask = inside.astype(latent_state.denoise_mask.dtype)[..., None]
        # Only the target tokens are re-masked (the reference copies into a mask of the target's length).
        return replace(latent_state, denoise_mask=mx.concatenate([mask, latent_state.denoise_mask[:, n:]], axis=1))
