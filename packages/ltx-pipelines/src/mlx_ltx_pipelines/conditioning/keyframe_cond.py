"""Keyframes appended as extra tokens at any pixel frame (ports ltx_core/conditioning/types/keyframe_cond.py)."""

from __future__ import annotations

import mlx.core as mx

from mlx_ltx_pipelines.conditioning.item import ConditioningError, check_latent, check_strength
from mlx_ltx_pipelines.conditioning.mask_utils import update_attention_mask
from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.patchifiers import get_pixel_coords
from mlx_ltx_pipelines.types import LatentState, VideoLatentShape


def append_tokens(
    latent_state: LatentState, tokens: mx.array, positions: mx.array, strength: float, tools: VideoLatentTools
) -> LatentState:
    """Append clean conditioning tokens (B, M, C) at ``positions`` (B, 3, M, 2): zeros in the noisy latent (the
    noiser fills them), mask ``1 − strength``, an existing attention mask padded with full attention."""
    b, m, _ = tokens.shape
    # The reference builds the mask in the conditioning latent's dtype (bf16 in the pipelines).
    mask = mx.full((b, m, 1), 1.0 - strength, dtype=tokens.dtype)
    attention = update_attention_mask(latent_state, None, tools.target_shape.token_count(), m, b, tokens.dtype)
    return LatentState(
        latent=mx.concatenate([latent_state.latent, mx.zeros_like(tokens).astype(latent_state.latent.dtype)], 1),
        denoise_mask=mx.concatenate([latent_state.denoise_mask, mask.astype(latent_state.denoise_mask.dtype)], 1),
        positions=mx.concatenate([latent_state.positions, positions], axis=2),
        clean_latent=mx.concatenate([latent_state.clean_latent, tokens.astype(latent_state.clean_latent.dtype)], 1),
        attention_mask=attention,
        frozen=latent_state.frozen,
        keyframes_mask=latent_state.keyframes_mask,  # appended tokens unmarked (padded with 0 for the model)
    )


class VideoConditionByKeyframeIndex:
    """Append ``keyframes`` (B, F, H, W, C) as tokens whose time positions start at pixel frame ``frame_idx``
    (causal fix only at frame 0); a single-pixel-frame keyframe spans [t, t + 1) frames (v1.2.0)."""

    def __init__(self, keyframes: mx.array, frame_idx: int, strength: float, num_pixel_frames: int = 1):
        self.keyframes = keyframes
        if frame_idx < 0:
            raise ConditioningError(f"frame_idx={frame_idx} must be >= 0")
        self.frame_idx = frame_idx
        self.strength = check_strength(strength)
        self.num_pixel_frames = num_pixel_frames

    def apply_to(self, latent_state: LatentState, latent_tools: VideoLatentTools) -> LatentState:
        check_latent(self.keyframes.shape, latent_tools, "keyframe", same_size=False)
        last = latent_tools.target_shape.upscale(latent_tools.scale_factors).frames - 1
        if self.frame_idx > last:
            raise ConditioningError(f"frame_idx={self.frame_idx} is past the last frame ({last}) of the video")
        tokens = latent_tools.patchifier.patchify(self.keyframes)
        coords = latent_tools.patchifier.get_patch_grid_bounds(VideoLatentShape.from_mlx_shape(self.keyframes.shape))
        causal = latent_tools.causal_fix if self.frame_idx == 0 else False
        positions = get_pixel_coords(coords, latent_tools.scale_factors, causal)
        time = positions[:, 0:1] + self.frame_idx
        if self.num_pixel_frames == 1:
            time = mx.stack([time[..., 0], time[..., 0] + 1], axis=-1)
        positions = mx.concatenate([time / latent_tools.fps, positions[:, 1:]], axis=1).astype(mx.float32)
        return append_tokens(latent_state, tokens, positions, self.strength, latent_tools)
