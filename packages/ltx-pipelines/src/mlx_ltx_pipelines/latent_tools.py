"""Build, patchify and clear latent states for one modality (ports ltx_core/tools.py).

A pipeline makes one tools object per modality and stage, creates the initial state from it, lets conditioning
items append or overwrite tokens, denoises, then ``clear_conditioning`` drops the appended tokens and
``unpatchify`` returns the channels-last latent for the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

import mlx.core as mx

from mlx_ltx_pipelines.patchifiers import AudioPatchifier, VideoLatentPatchifier, get_pixel_coords
from mlx_ltx_pipelines.types import (
    VIDEO_SCALE_FACTORS,
    AudioLatentShape,
    LatentState,
    SpatioTemporalScaleFactors,
    VideoLatentShape,
)

Shape = TypeVar("Shape", VideoLatentShape, AudioLatentShape)
Shape_contra = TypeVar("Shape_contra", VideoLatentShape, AudioLatentShape, contravariant=True)


class _Patchifier(Protocol[Shape_contra]):
    """What the tools need of a patchifier, for the latent shape type it works on."""

    def patchify(self, latents: mx.array, /) -> mx.array: ...
    def unpatchify(self, latents: mx.array, output_shape: Shape_contra, /) -> mx.array: ...
    def get_token_count(self, tgt_shape: Shape_contra, /) -> int: ...


class _LatentTools(Generic[Shape]):
    patchifier: _Patchifier[Shape]
    target_shape: Shape

    def _initial_latent(self, dtype: mx.Dtype, initial_latent: mx.array | None) -> mx.array:
        shape = self.target_shape.to_mlx_shape()
        if initial_latent is None:
            return mx.zeros(shape, dtype=dtype)
        if tuple(initial_latent.shape) != shape:
            raise ValueError(f"initial_latent has shape {tuple(initial_latent.shape)}; this stage needs {shape}")
        return initial_latent

    def patchify(self, latent_state: LatentState) -> LatentState:
        """Unpatchified state (latents in MLX layout, mask (..., 1)) → token state."""
        shape = self.target_shape.to_mlx_shape()
        if tuple(latent_state.latent.shape) != shape:
            raise ValueError(f"latent state has shape {tuple(latent_state.latent.shape)}, expected {shape}")
        p = self.patchifier.patchify
        return replace(
            latent_state,
            latent=p(latent_state.latent),
            clean_latent=p(latent_state.clean_latent),
            denoise_mask=p(latent_state.denoise_mask),
        )

    def unpatchify(self, latent_state: LatentState) -> LatentState:
        """Token state → latent, clean latent and mask in MLX layout (positions unchanged)."""
        u = self.patchifier.unpatchify
        return replace(
            latent_state,
            latent=u(latent_state.latent, self.target_shape),
            clean_latent=u(latent_state.clean_latent, self.target_shape),
            denoise_mask=u(latent_state.denoise_mask, self.target_shape.mask_shape()),
        )

    def clear_conditioning(self, latent_state: LatentState) -> LatentState:
        """Drop the tokens conditioning items appended (they always come after the target tokens)."""
        n = self.patchifier.get_token_count(self.target_shape)
        return LatentState(
            latent=latent_state.latent[:, :n],
            denoise_mask=mx.ones_like(latent_state.denoise_mask[:, :n]),
            positions=latent_state.positions[:, :, :n],
            clean_latent=latent_state.clean_latent[:, :n],
            attention_mask=None,
            frozen=latent_state.frozen,
            keyframes_mask=latent_state.keyframes_mask,
        )


@dataclass(frozen=True)
class VideoLatentTools(_LatentTools[VideoLatentShape]):
    """Video states: positions are (seconds, y px, x px) bounds with the causal first-frame fix."""

    patchifier: VideoLatentPatchifier
    target_shape: VideoLatentShape
    fps: float
    scale_factors: SpatioTemporalScaleFactors = VIDEO_SCALE_FACTORS
    causal_fix: bool = True

    def __post_init__(self) -> None:
        if self.fps <= 0:
            raise ValueError(f"fps={self.fps} must be > 0")

    def create_initial_state(self, dtype: mx.Dtype = mx.float32, initial_latent: mx.array | None = None) -> LatentState:
        """Token state of ``initial_latent`` (B, F, H, W, C) (zeros if None): mask 1 everywhere, clean = latent."""
        latent = self._initial_latent(dtype, initial_latent)
        mask = mx.ones(self.target_shape.mask_shape().to_mlx_shape(), dtype=mx.float32)
        bounds = self.patchifier.get_patch_grid_bounds(self.target_shape)
        positions = get_pixel_coords(bounds, self.scale_factors, self.causal_fix)
        positions = mx.concatenate([positions[:, 0:1] / self.fps, positions[:, 1:]], axis=1)
        state = self.patchify(LatentState(latent, mask, positions, latent))
        # v1.2.0: the first latent frame (a single pixel frame) is always a keyframe for LTX-2.5's embedding.
        first = self.patchifier.get_token_count(self.target_shape._replace(frames=1))
        tokens = state.latent.shape[1]
        keyframes = (mx.arange(tokens) < first).astype(mx.float32)[None, :, None]
        return replace(state, keyframes_mask=mx.broadcast_to(keyframes, (state.latent.shape[0], tokens, 1)))


@dataclass(frozen=True)
class AudioLatentTools(_LatentTools[AudioLatentShape]):
    """Audio states: one token per latent frame, positions in seconds."""

    patchifier: AudioPatchifier
    target_shape: AudioLatentShape

    def create_initial_state(self, dtype: mx.Dtype = mx.float32, initial_latent: mx.array | None = None) -> LatentState:
        """Token state of ``initial_latent`` (B, T, mel_bins, C) (zeros if None)."""
        latent = self._initial_latent(dtype, initial_latent)
        mask = mx.ones(self.target_shape.mask_shape().to_mlx_shape(), dtype=mx.float32)
        positions = self.patchifier.get_patch_grid_bounds(self.target_shape)
        return self.patchify(LatentState(latent, mask, positions, latent))
