"""The video VAE's scale factors and the frame / size rules they imply (ports ``VIDEO_SCALE_FACTORS`` of
ltx_core/types.py).

The causal VAE keeps frame 0 and compresses the rest 8× in time (so videos have 8k+1 frames) and 32× in
space (so sizes are multiples of 32; 64 for two-stage pipelines, whose stage 1 runs at half size).
"""

from __future__ import annotations

from typing import NamedTuple


class SpatioTemporalScaleFactors(NamedTuple):
    """Pixel → latent downscaling per axis (the VAE's 8× time, 32× space)."""

    time: int
    height: int
    width: int

    @classmethod
    def default(cls) -> SpatioTemporalScaleFactors:
        return cls(time=8, height=32, width=32)

    def is_valid_num_frames(self, num_frames: int) -> bool:
        """``num_frames`` is a positive whole ``time·k + 1``."""
        return int(num_frames) == num_frames and num_frames >= 1 and (num_frames - 1) % self.time == 0

    def latent_frames(self, num_frames: int) -> int:
        """Latent frames of ``num_frames`` pixel frames: ``(F − 1) // 8 + 1``."""
        return (num_frames - 1) // self.time + 1

    def pixel_frames(self, latent_frames: int) -> int:
        """Pixel frames a decoder makes of ``latent_frames``: ``8·(f − 1) + 1``."""
        return self.time * (latent_frames - 1) + 1

    def usable_frames(self, num_frames: int) -> int:
        """The most frames ≤ ``num_frames`` the causal encoder takes (8k+1): a clip's first frames."""
        return self.pixel_frames(self.latent_frames(num_frames))

    def size_multiple(self, two_stage: bool = False) -> int:
        """What height and width must be multiples of: 32, or 64 when stage 1 runs at half size."""
        return 2 * self.height if two_stage else self.height

    def floor_size(self, pixels: int) -> int:
        """``pixels`` rounded down to a multiple of the spatial scale (32)."""
        return pixels // self.height * self.height


VIDEO_SCALE_FACTORS = SpatioTemporalScaleFactors.default()
