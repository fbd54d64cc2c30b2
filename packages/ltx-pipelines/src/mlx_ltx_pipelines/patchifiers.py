"""Latents ↔ tokens and the [start, end) position of every token (ports ltx_core/components/patchifiers.py).

Token channels keep the reference's order (video ``(c p q)``, audio ``(c f)``), which is the order the
transformer's ``patchify_proj`` weights expect; only the unpatchified arrays are channels-last.
"""

from __future__ import annotations

import mlx.core as mx

from mlx_ltx_pipelines.types import AudioLatentShape, SpatioTemporalScaleFactors, VideoLatentShape


class VideoLatentPatchifier:
    """(B, F, H, W, C) ↔ (B, F·H/p·W/p, C·p·p); the time patch is always 1."""

    def __init__(self, patch_size: int):
        if patch_size < 1:
            raise ValueError(f"patch_size={patch_size} must be >= 1")
        self._patch_size = (1, patch_size, patch_size)

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return self._patch_size

    def get_token_count(self, tgt_shape: VideoLatentShape) -> int:
        return tgt_shape.frames * tgt_shape.height * tgt_shape.width // (self._patch_size[1] * self._patch_size[2])

    def patchify(self, latents: mx.array) -> mx.array:
        """(B, F, H, W, C) → (B, T, C·p·p)."""
        b, f, h, w, c = latents.shape
        p = self._patch_size[1]
        x = latents.reshape(b, f, h // p, p, w // p, p, c).transpose(0, 1, 2, 4, 6, 3, 5)
        return x.reshape(b, f * (h // p) * (w // p), c * p * p)

    def unpatchify(self, latents: mx.array, output_shape: VideoLatentShape) -> mx.array:
        """(B, T, C·p·p) → (B, F, H, W, C) for the frames/height/width of ``output_shape``."""
        b, _, d = latents.shape
        p = self._patch_size[1]
        f, h, w = output_shape.frames, output_shape.height // p, output_shape.width // p
        x = latents.reshape(b, f, h, w, d // (p * p), p, p).transpose(0, 1, 2, 5, 3, 6, 4)
        return x.reshape(b, f, h * p, w * p, d // (p * p))

    def get_patch_grid_bounds(self, output_shape: VideoLatentShape) -> mx.array:
        """(B, 3, T, 2) latent-grid [start, end) of every token along (frame, height, width), float32."""
        if not isinstance(output_shape, VideoLatentShape):
            raise ValueError("VideoLatentPatchifier expects a VideoLatentShape")
        pt, ph, pw = self._patch_size
        grid = mx.meshgrid(
            mx.arange(0, output_shape.frames, pt),
            mx.arange(0, output_shape.height, ph),
            mx.arange(0, output_shape.width, pw),
            indexing="ij",
        )
        starts = mx.stack([g.reshape(-1) for g in grid]).astype(mx.float32)  # (3, T)
        ends = starts + mx.array([pt, ph, pw], dtype=mx.float32)[:, None]
        bounds = mx.stack([starts, ends], axis=-1)
        return mx.broadcast_to(bounds[None], (output_shape.batch, *bounds.shape))


def get_pixel_coords(
    latent_coords: mx.array, scale_factors: SpatioTemporalScaleFactors, causal_fix: bool = False
) -> mx.array:
    """(B, 3, T, 2) latent bounds → pixel bounds; ``causal_fix``: frame 0 covers one pixel frame, so time
    bounds become ``max(t + 1 − time_scale, 0)`` (frame 0 = [0, 1), frame 1 = [1, 9), …)."""
    scale = mx.array([scale_factors.time, scale_factors.height, scale_factors.width], dtype=latent_coords.dtype)
    pixel = latent_coords * scale.reshape(1, 3, 1, 1)
    if causal_fix:
        time = mx.maximum(pixel[:, 0:1] + 1 - scale_factors.time, 0)
        pixel = mx.concatenate([time, pixel[:, 1:]], axis=1)
    return pixel


class AudioPatchifier:
    """(B, T, mel_bins, C) ↔ (B, T, C·mel_bins); positions are seconds on the mel-frame grid."""

    def __init__(
        self,
        patch_size: int,
        sample_rate: int = 16000,
        hop_length: int = 160,
        audio_latent_downsample_factor: int = 4,
        is_causal: bool = True,
        shift: int = 0,
    ):
        self.hop_length = hop_length
        self.sample_rate = sample_rate
        self.audio_latent_downsample_factor = audio_latent_downsample_factor
        self.is_causal = is_causal
        self.shift = shift
        self._patch_size = (1, patch_size, patch_size)

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return self._patch_size

    def get_token_count(self, tgt_shape: AudioLatentShape) -> int:
        return tgt_shape.frames

    def patchify(self, audio_latents: mx.array) -> mx.array:
        """(B, T, F, C) → (B, T, C·F) in the reference's ``(c f)`` channel order."""
        b, t, f, c = audio_latents.shape
        return audio_latents.transpose(0, 1, 3, 2).reshape(b, t, c * f)

    def unpatchify(self, audio_latents: mx.array, output_shape: AudioLatentShape) -> mx.array:
        """(B, T, C·F) → (B, T, F, C)."""
        b, t, _ = audio_latents.shape
        return audio_latents.reshape(b, t, output_shape.channels, output_shape.mel_bins).transpose(0, 1, 3, 2)

    def _latent_time_in_sec(self, start: int, end: int) -> mx.array:
        """Seconds of latent frames [start, end): mel frame ``4i`` (causal: ``max(4i + 1 − 4, 0)``) · hop / rate."""
        mel = mx.arange(start, end, dtype=mx.float32) * self.audio_latent_downsample_factor
        if self.is_causal:
            mel = mx.maximum(mel + 1 - self.audio_latent_downsample_factor, 0)
        return mel * self.hop_length / self.sample_rate

    def get_patch_grid_bounds(self, output_shape: AudioLatentShape) -> mx.array:
        """(B, 1, T, 2) [start, end) in seconds, float32."""
        if not isinstance(output_shape, AudioLatentShape):
            raise ValueError("AudioPatchifier expects an AudioLatentShape")
        n, s = output_shape.frames, self.shift
        bounds = mx.stack([self._latent_time_in_sec(s, n + s), self._latent_time_in_sec(s + 1, n + s + 1)], axis=-1)
        return mx.broadcast_to(bounds[None, None], (output_shape.batch, 1, n, 2))
