"""Pixel and latent shapes and the latent state of a denoising run (ports ltx_core/types.py).

Arrays are MLX layout: video latents (B, F, H, W, C), audio latents (B, T, mel_bins, C), tokens (B, T, C).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import mlx.core as mx

from mlx_ltx_core.types import VIDEO_SCALE_FACTORS as VIDEO_SCALE_FACTORS  # re-exported: the reference's home
from mlx_ltx_core.types import SpatioTemporalScaleFactors as SpatioTemporalScaleFactors


class VideoPixelShape(NamedTuple):
    """Shape of a video in pixels (frames, height, width) at ``fps``."""

    batch: int
    frames: int
    height: int
    width: int
    fps: float


class VideoLatentShape(NamedTuple):
    """Shape of a video latent; ``to_mlx_shape()`` is the array shape (B, F, H, W, C)."""

    batch: int
    channels: int
    frames: int
    height: int
    width: int

    def to_mlx_shape(self) -> tuple[int, int, int, int, int]:
        return (self.batch, self.frames, self.height, self.width, self.channels)

    @staticmethod
    def from_mlx_shape(shape: tuple[int, ...]) -> VideoLatentShape:
        batch, frames, height, width, channels = shape
        return VideoLatentShape(batch, channels, frames, height, width)

    def token_count(self) -> int:
        """Tokens after patchification with patch size 1."""
        return self.frames * self.height * self.width

    def mask_shape(self) -> VideoLatentShape:
        return self._replace(channels=1)

    @staticmethod
    def from_pixel_shape(
        shape: VideoPixelShape,
        latent_channels: int = 128,
        scale_factors: SpatioTemporalScaleFactors = VIDEO_SCALE_FACTORS,
    ) -> VideoLatentShape:
        return VideoLatentShape(
            batch=shape.batch,
            channels=latent_channels,
            frames=scale_factors.latent_frames(shape.frames),
            height=shape.height // scale_factors.height,
            width=shape.width // scale_factors.width,
        )

    def upscale(self, scale_factors: SpatioTemporalScaleFactors = VIDEO_SCALE_FACTORS) -> VideoLatentShape:
        """The pixel shape this latent decodes to (3 channels)."""
        return self._replace(
            channels=3,
            frames=scale_factors.pixel_frames(self.frames),
            height=self.height * scale_factors.height,
            width=self.width * scale_factors.width,
        )


class AudioLatentShape(NamedTuple):
    """Shape of an audio latent; ``to_mlx_shape()`` is the array shape (B, T, mel_bins, C)."""

    batch: int
    channels: int
    frames: int
    mel_bins: int

    def to_mlx_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.frames, self.mel_bins, self.channels)

    @staticmethod
    def from_mlx_shape(shape: tuple[int, ...]) -> AudioLatentShape:
        batch, frames, mel_bins, channels = shape
        return AudioLatentShape(batch, channels, frames, mel_bins)

    def token_count(self) -> int:
        return self.frames

    def mask_shape(self) -> AudioLatentShape:
        return self._replace(channels=1, mel_bins=1)

    @staticmethod
    def from_duration(
        batch: int,
        duration: float,
        channels: int = 8,
        mel_bins: int = 16,
        sample_rate: int = 16000,
        hop_length: int = 160,
        audio_latent_downsample_factor: int = 4,
    ) -> AudioLatentShape:
        """25 latent frames per second by default (16 kHz, hop 160, 4× downsampling)."""
        latents_per_second = float(sample_rate) / float(hop_length) / float(audio_latent_downsample_factor)
        return AudioLatentShape(batch, channels, round(duration * latents_per_second), mel_bins)

    @staticmethod
    def from_video_pixel_shape(
        shape: VideoPixelShape,
        channels: int = 8,
        mel_bins: int = 16,
        sample_rate: int = 16000,
        hop_length: int = 160,
        audio_latent_downsample_factor: int = 4,
    ) -> AudioLatentShape:
        """The audio latent lasting as long as the video: ``round(frames / fps · 25)`` latent frames."""
        return AudioLatentShape.from_duration(
            shape.batch,
            float(shape.frames) / float(shape.fps),
            channels,
            mel_bins,
            sample_rate,
            hop_length,
            audio_latent_downsample_factor,
        )


@dataclass(frozen=True)
class LatentState:
    """One modality's state during denoising (patchified unless a tool's ``unpatchify`` returned it).

    latent:          (B, T, C) current noisy tokens (target tokens, then appended conditioning tokens).
    denoise_mask:    (B, T, 1) float32 denoising strength per token (1 = denoise fully, 0 = keep clean).
    positions:       (B, n_dims, T, 2) float32 [start, end) per token: video (seconds, y px, x px), audio (seconds).
    clean_latent:    (B, T, C) the clean tokens the mask blends back (conditioning latents; zeros elsewhere).
    attention_mask:  optional (B, T, T) self-attention strengths in [0, 1] built by conditioning items.
    frozen:          the stream is held fixed (A2V audio): its ``Modality.sigma`` is 0 (v1.2.0 semantics).
    keyframes_mask:  optional (B, T_target, 1) 1 on the target's first latent frame (video): the tokens LTX-2.5's
                     keyframe embedding marks; tokens appended after the target are unmarked.
    """

    latent: mx.array
    denoise_mask: mx.array
    positions: mx.array
    clean_latent: mx.array
    attention_mask: mx.array | None = None
    frozen: bool = False
    keyframes_mask: mx.array | None = None
