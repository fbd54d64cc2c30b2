"""``ResnetBlock3D`` and ``UNetMidBlock3D`` with optional timestep modulation and noise (ports video_vae/resnet.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.timestep_embedding import PixArtAlphaCombinedTimestepSizeEmbeddings
from mlx_ltx_core.model.video_vae.convolution import CausalConv3d
from mlx_ltx_core.model.video_vae.ops import NoiseGenerator, PixelNorm, normal_noise


class ResnetBlock3D(nn.Module):
    """``x + conv2(silu(mod2(norm2(conv1(silu(mod1(norm1(x)))) [+noise]))) [+noise]`` at a constant width.

    ``mod`` is ``x·(1+scale)+shift`` from ``scale_shift_table`` plus the block's timestep embedding; noise is one
    (H, W) normal map per call scaled per channel (``per_channel_scale1/2``), shared by batch and frames.
    """

    def __init__(
        self,
        in_channels: int,
        *,
        inject_noise: bool = False,
        timestep_conditioning: bool = False,
        spatial_padding_mode: str = "zeros",
    ):
        super().__init__()
        self.inject_noise = inject_noise
        self.timestep_conditioning = timestep_conditioning
        self.norm1 = PixelNorm()
        self.conv1 = CausalConv3d(in_channels, in_channels, 3, spatial_padding_mode)
        self.norm2 = PixelNorm()
        self.conv2 = CausalConv3d(in_channels, in_channels, 3, spatial_padding_mode)
        if inject_noise:
            self.per_channel_scale1 = mx.zeros((in_channels,))
            self.per_channel_scale2 = mx.zeros((in_channels,))
        if timestep_conditioning:
            self.scale_shift_table = mx.zeros((4, in_channels))

    def _noise(self, x: mx.array, scale: mx.array, generator: NoiseGenerator | None) -> mx.array:
        spatial = normal_noise(generator, x.shape[2:4], x.dtype)
        return x + spatial[..., None] * scale.astype(x.dtype)

    def __call__(
        self,
        x: mx.array,
        causal: bool = True,
        timestep: mx.array | None = None,
        generator: NoiseGenerator | None = None,
    ) -> mx.array:
        """``x`` (B, F, H, W, C); ``timestep`` the block's embedding (B, 4C) when timestep-conditioned."""
        h = self.norm1(x)
        if self.timestep_conditioning:
            if timestep is None:
                raise ValueError("ResnetBlock3D: timestep is required when timestep_conditioning is True")
            ada = self.scale_shift_table.astype(h.dtype) + timestep.reshape(x.shape[0], 4, -1)
            shift1, scale1, shift2, scale2 = (ada[:, i, None, None, None, :] for i in range(4))
            h = h * (1 + scale1) + shift1
        h = self.conv1(nn.silu(h), causal=causal)
        if self.inject_noise:
            h = self._noise(h, self.per_channel_scale1, generator)
        h = self.norm2(h)
        if self.timestep_conditioning:
            h = h * (1 + scale2) + shift2
        h = self.conv2(nn.silu(h), causal=causal)
        if self.inject_noise:
            h = self._noise(h, self.per_channel_scale2, generator)
        return x + h


class UNetMidBlock3D(nn.Module):
    """``num_layers`` ResnetBlock3D at one width; owns the timestep embedder (4C) when conditioned."""

    def __init__(
        self,
        in_channels: int,
        num_layers: int = 1,
        *,
        inject_noise: bool = False,
        timestep_conditioning: bool = False,
        spatial_padding_mode: str = "zeros",
    ):
        super().__init__()
        self.timestep_conditioning = timestep_conditioning
        if timestep_conditioning:
            self.time_embedder = PixArtAlphaCombinedTimestepSizeEmbeddings(embedding_dim=in_channels * 4)
        self.res_blocks = [
            ResnetBlock3D(
                in_channels,
                inject_noise=inject_noise,
                timestep_conditioning=timestep_conditioning,
                spatial_padding_mode=spatial_padding_mode,
            )
            for _ in range(num_layers)
        ]

    def __call__(
        self,
        x: mx.array,
        causal: bool = True,
        timestep: mx.array | None = None,
        generator: NoiseGenerator | None = None,
    ) -> mx.array:
        """``x`` (B, F, H, W, C); ``timestep`` (B,) already scaled by the decoder's multiplier."""
        embedded = None
        if self.timestep_conditioning:
            if timestep is None:
                raise ValueError("UNetMidBlock3D: timestep is required when timestep_conditioning is True")
            embedded = self.time_embedder(timestep.flatten(), hidden_dtype=x.dtype)
        for block in self.res_blocks:
            x = block(x, causal=causal, timestep=embedded, generator=generator)
        return x
