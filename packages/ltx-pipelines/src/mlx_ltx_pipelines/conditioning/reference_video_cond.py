"""IC-LoRA reference video appended as extra tokens (ports ltx_core/conditioning/types/reference_video_cond.py)."""

from __future__ import annotations

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError, check_latent, check_strength
from mlx_ltx_pipelines.conditioning.keyframe_cond import append_tokens
from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.patchifiers import get_pixel_coords
from mlx_ltx_pipelines.types import LatentState, VideoLatentShape


class VideoConditionByReferenceLatent:
    """Append a reference video latent (B, F, H/d, W/d, C): its spatial positions are scaled by
    ``downscale_factor`` d (the LoRA's ``reference_downscale_factor``) to the target's pixel grid; with
    ``temporal_scale_factor`` S its frames sit S target frames apart, ending with the target's last frame."""

    def __init__(
        self, latent: mx.array, downscale_factor: int = 1, temporal_scale_factor: int = 1, strength: float = 1.0
    ):
        for name, value in (("downscale_factor", downscale_factor), ("temporal_scale_factor", temporal_scale_factor)):
            if int(value) != value or value < 1:
                raise ConditioningError(f"{name}={value} must be a positive integer")
        self.latent = latent
        self.downscale_factor = int(downscale_factor)
        self.temporal_scale_factor = int(temporal_scale_factor)
        self.strength = check_strength(strength)

    def apply_to(self, latent_state: LatentState, latent_tools: VideoLatentTools) -> LatentState:
        check_latent(self.latent.shape, latent_tools, "reference video", same_size=False)
        tokens = latent_tools.patchifier.patchify(self.latent)
        coords = latent_tools.patchifier.get_patch_grid_bounds(VideoLatentShape.from_mlx_shape(self.latent.shape))
        positions = get_pixel_coords(coords, latent_tools.scale_factors, latent_tools.causal_fix).astype(mx.float32)
        time = positions[:, 0:1] / (latent_tools.fps / self.temporal_scale_factor)
        if self.temporal_scale_factor != 1:
            t_target = latent_state.positions[:, 0:1, 0:1, 1:2].astype(mx.float32)  # = 1 / target fps
            time = mx.maximum(time - (self.temporal_scale_factor - 1) * t_target, 0)
        space = positions[:, 1:] * self.downscale_factor if self.downscale_factor != 1 else positions[:, 1:]
        positions = mx.concatenate([time, space], axis=1)
        return append_tokens(latent_state, tokens, positions, self.strength, latent_tools)
