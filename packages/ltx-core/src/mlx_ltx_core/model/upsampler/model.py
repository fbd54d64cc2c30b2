"""``LatentUpsampler`` (spatial x2, rational x2 / x1.5, temporal x2) and ``upsample_video``
(ports model/upsampler/model.py and model_configurator.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.upsampler.pixel_shuffle import PixelShuffleND
from mlx_ltx_core.model.upsampler.res_block import ResBlock
from mlx_ltx_core.model.upsampler.spatial_rational_resampler import RATIONAL_SCALES, SpatialRationalResampler
from mlx_ltx_core.model.video_vae.convolution import same_conv3d
from mlx_ltx_core.utils import known_keys_from_dict


@dataclass
class LatentUpsamplerArgs:
    """The flat ``config`` of an upscaler checkpoint; defaults are ``LatentUpsamplerConfigurator``'s."""

    in_channels: int = 128
    mid_channels: int = 512
    num_blocks_per_stage: int = 4
    dims: int = 3
    spatial_upsample: bool = True
    temporal_upsample: bool = False
    spatial_scale: float = 2.0
    rational_resampler: bool = False

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> LatentUpsamplerArgs:
        return known_keys_from_dict(cls, config)

    def __post_init__(self) -> None:
        bad = []
        if self.dims != 3:
            bad.append(f"dims={self.dims!r} (expected 3)")
        if self.spatial_upsample == self.temporal_upsample:
            bad.append(
                f"spatial_upsample={self.spatial_upsample!r} with temporal_upsample={self.temporal_upsample!r} "
                "(expected exactly one of them True)"
            )
        if self.spatial_upsample and self.rational_resampler and float(self.spatial_scale) not in RATIONAL_SCALES:
            bad.append(f"spatial_scale={self.spatial_scale!r} (expected one of {list(RATIONAL_SCALES)})")
        if self.mid_channels % 32:
            bad.append(f"mid_channels={self.mid_channels!r} (GroupNorm(32) needs a multiple of 32)")
        if bad:
            raise ValueError(f"latent upsampler config: unsupported config values: {'; '.join(bad)}")


class LatentUpsampler(nn.Module):
    """Latent (B, F, H, W, C) -> upsampled latent: (2H, 2W), (1.5H, 1.5W) or 2F − 1 frames.

    ``initial_conv`` -> GroupNorm -> SiLU -> ``res_blocks`` -> ``upsampler`` -> ``post_upsample_res_blocks`` ->
    ``final_conv``; spatial upsamplers work frame by frame with 2-D convolutions.
    """

    def __init__(self, args: LatentUpsamplerArgs):
        super().__init__()
        self.args = args
        mid = args.mid_channels
        self.initial_conv = nn.Conv3d(args.in_channels, mid, 3, padding=1)
        self.initial_norm = nn.GroupNorm(32, mid, pytorch_compatible=True)
        self.res_blocks = [ResBlock(mid) for _ in range(args.num_blocks_per_stage)]
        if args.temporal_upsample:
            self.upsampler = [nn.Conv3d(mid, 2 * mid, 3, padding=1), PixelShuffleND(1)]
        elif args.rational_resampler:
            self.upsampler = SpatialRationalResampler(mid, args.spatial_scale)
        else:  # the reference ignores spatial_scale here: always x2
            self.upsampler = [nn.Conv2d(mid, 4 * mid, 3, padding=1), PixelShuffleND(2)]
        self.post_upsample_res_blocks = [ResBlock(mid) for _ in range(args.num_blocks_per_stage)]
        self.final_conv = nn.Conv3d(mid, args.in_channels, 3, padding=1)

    def _upsample(self, x: mx.array) -> mx.array:
        if self.args.temporal_upsample:
            conv, shuffle = self.upsampler
            return shuffle(same_conv3d(conv, x))
        if isinstance(self.upsampler, SpatialRationalResampler):  # built when args.rational_resampler
            return self.upsampler(x)
        conv, shuffle = self.upsampler
        b, f = x.shape[:2]
        y = shuffle(conv(x.reshape(b * f, *x.shape[2:])))
        return y.reshape(b, f, *y.shape[1:])

    def __call__(self, latent: mx.array, intermediates: dict[str, mx.array] | None = None) -> mx.array:
        """(B, F, H, W, C) -> (B, F', H', W', C); ``intermediates`` collects the stage outputs."""
        if latent.ndim != 5 or latent.shape[-1] != self.args.in_channels:
            raise ValueError(
                f"latent has shape {tuple(latent.shape)}; the upsampler takes (B, F, H, W, {self.args.in_channels})"
            )
        record = intermediates.__setitem__ if intermediates is not None else lambda _k, _v: None
        x = same_conv3d(self.initial_conv, latent)
        record("initial_conv", x)
        x = self.initial_norm(x)
        record("initial_norm", x)
        x = nn.silu(x)
        for i, block in enumerate(self.res_blocks):
            x = block(x)
            record(f"res_blocks.{i}", x)
        x = self._upsample(x)
        record("upsampler", x)
        if self.args.temporal_upsample:
            x = x[:, 1:]  # the first latent frame stands for one pixel frame: dropped
        for i, block in enumerate(self.post_upsample_res_blocks):
            x = block(x)
            record(f"post_upsample_res_blocks.{i}", x)
        return same_conv3d(self.final_conv, x)


def upsample_video(latent: mx.array, video_encoder: Any, upsampler: LatentUpsampler) -> mx.array:
    """Un-normalise with ``video_encoder.per_channel_statistics`` (any VAE part holding them), upsample, normalise."""
    stats = video_encoder.per_channel_statistics
    return stats.normalize(upsampler(stats.un_normalize(latent)))
