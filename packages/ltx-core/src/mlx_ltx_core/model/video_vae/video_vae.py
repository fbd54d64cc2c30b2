"""``VideoEncoder`` and ``VideoDecoder``, channels-last (ports model/video_vae/video_vae.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.timestep_embedding import PixArtAlphaCombinedTimestepSizeEmbeddings
from mlx_ltx_core.model.video_vae.args import DECODER_BLOCKS, ENCODER_BLOCKS, VideoDecoderArgs, VideoEncoderArgs
from mlx_ltx_core.model.video_vae.attention import AttnBlock3D
from mlx_ltx_core.model.video_vae.convolution import CausalConv3d
from mlx_ltx_core.model.video_vae.ops import NoiseGenerator, PerChannelStatistics, PixelNorm, normal_noise, patchify
from mlx_ltx_core.model.video_vae.ops import unpatchify as _unpatchify
from mlx_ltx_core.model.video_vae.resnet import UNetMidBlock3D
from mlx_ltx_core.model.video_vae.sampling import DepthToSpaceUpsample, SpaceToDepthDownsample
from mlx_ltx_core.model.video_vae.tiled import tiled_decode, tiled_encode
from mlx_ltx_core.model.video_vae.tiling import SPACE_SCALE, TIME_SCALE, TilingConfig
from mlx_ltx_core.utils import layer_dtype


def _scale_factors(strides: list[tuple[int, int, int]], patch_size: int) -> tuple[int, int]:
    """(frames, pixels) per latent cell of a block list."""
    return math.prod(s[0] for s in strides), patch_size * math.prod(s[1] for s in strides)


def _check_5d(x: mx.array, name: str, channels: int, what: str) -> None:
    if x.ndim != 5:
        raise ValueError(f"{name} has shape {tuple(x.shape)}; expected (B, F, H, W, C), channels last")
    if x.shape[-1] != channels:
        raise ValueError(f"{name} has {x.shape[-1]} channels (last axis); {what} takes {channels}")


class VideoEncoder(nn.Module):
    """Video (B, F, H, W, 3) in [−1, 1], F = 1 + 8k -> normalised latent means (B, 1 + k, H/32, W/32, 128)."""

    def __init__(self, args: VideoEncoderArgs):
        super().__init__()
        self.args = args
        pad = args.spatial_padding_mode
        self.patch_size = args.patch_size
        self.latent_channels = args.latent_channels
        self.per_channel_statistics = PerChannelStatistics(args.latent_channels)
        self.conv_in = CausalConv3d(args.in_channels * args.patch_size**2, args.latent_channels, 3, pad)
        width = args.latent_channels  # the encoder's first width is the latent width
        self.down_blocks = []
        for name, params in args.blocks:
            if name == "res_x":
                self.down_blocks.append(UNetMidBlock3D(width, params["num_layers"], spatial_padding_mode=pad))
            elif name == "attn":
                self.down_blocks.append(AttnBlock3D(width))
            else:
                out = width * params.get("multiplier", 2)
                self.down_blocks.append(SpaceToDepthDownsample(width, out, ENCODER_BLOCKS[name][0], pad))
                width = out
        self.conv_norm_out = PixelNorm()
        self.conv_out = CausalConv3d(width, args.latent_channels + 1, 3, pad)  # "uniform": N means + 1 log-var
        self.time_factor, self.space_factor = _scale_factors(
            [ENCODER_BLOCKS[name][0] for name, _ in args.blocks], args.patch_size
        )

    def check_video(self, video: mx.array) -> None:
        """One-line ValueError unless ``video`` is (B, 1 + 8k, 32m, 32n, 3) (for the real block lists)."""
        _check_5d(video, "video", self.args.in_channels, "the encoder")
        _, f, h, w, _ = video.shape
        if (f - 1) % self.time_factor:
            k = (f - 1) // self.time_factor
            raise ValueError(
                f"video has {f} frames; the encoder needs 1 + {self.time_factor}k frames "
                f"(e.g. {1 + k * self.time_factor} or {1 + (k + 1) * self.time_factor}): trim or pad the video"
            )
        if h % self.space_factor or w % self.space_factor:
            raise ValueError(f"video is {h}x{w} (HxW); height and width must be multiples of {self.space_factor}")

    def __call__(self, sample: mx.array, intermediates: dict[str, mx.array] | None = None) -> mx.array:
        """(B, F, H, W, 3) -> (B, F', H', W', latent_channels); ``intermediates`` collects each stage's output."""
        self.check_video(sample)
        record = intermediates.__setitem__ if intermediates is not None else lambda _k, _v: None
        sample = sample.astype(layer_dtype(self.conv_in.conv))  # convolutions in the weights' dtype
        x = self.conv_in(patchify(sample, self.patch_size))
        record("conv_in", x)
        for i, block in enumerate(self.down_blocks):
            x = block(x)
            record(f"down_blocks.{i}", x)
        x = self.conv_norm_out(x)
        record("conv_norm_out", x)
        x = self.conv_out(nn.silu(x))
        record("conv_out", x)
        return self.per_channel_statistics.normalize(x[..., :-1])

    def tiled_encode(self, video: mx.array, tiling_config: TilingConfig | None = None) -> mx.array:
        """Encode tile by tile (spatial overlaps ≥ 64 px, temporal ≥ 16 frames); same shapes as ``__call__``."""
        self.check_video(video)
        return tiled_encode(self, video, self.latent_channels, tiling_config)


class VideoDecoder(nn.Module):
    """Normalised latent (B, F', H', W', 128) -> video (B, 8(F'−1)+1, 32H', 32W', 3), no clamp."""

    def __init__(self, args: VideoDecoderArgs):
        super().__init__()
        self.args = args
        pad = args.spatial_padding_mode
        self.patch_size = args.patch_size
        self.causal = args.causal_decoder
        self.timestep_conditioning = args.timestep_conditioning
        self.decode_noise_scale = 0.025
        self.decode_timestep = 0.05
        self.per_channel_statistics = PerChannelStatistics(args.latent_channels)
        width = args.bottleneck_channels
        self.conv_in = CausalConv3d(args.latent_channels, width, 3, pad)
        self.up_blocks = []
        for name, params in args.blocks:
            if name == "res_x":
                block = UNetMidBlock3D(
                    width,
                    params["num_layers"],
                    inject_noise=params.get("inject_noise", False),
                    timestep_conditioning=args.timestep_conditioning,
                    spatial_padding_mode=pad,
                )
            elif name == "attn":
                block = AttnBlock3D(width)
            else:
                mult = params.get("multiplier", 1)
                residual = name == "compress_all" and params.get("residual", False)
                block = DepthToSpaceUpsample(width, DECODER_BLOCKS[name], residual, mult, pad)
                width //= mult
            self.up_blocks.append(block)
        self.conv_norm_out = PixelNorm()
        self.conv_out = CausalConv3d(width, args.out_channels * args.patch_size**2, 3, pad)
        if args.timestep_conditioning:
            self.timestep_scale_multiplier = mx.array(1000.0)
            self.last_time_embedder = PixArtAlphaCombinedTimestepSizeEmbeddings(embedding_dim=width * 2)
            self.last_scale_shift_table = mx.zeros((2, width))
        self.time_factor, self.space_factor = _scale_factors(
            [DECODER_BLOCKS[name] for name, _ in args.blocks], args.patch_size
        )

    def check_latent(self, latent: mx.array) -> None:
        """One-line ValueError unless ``latent`` fits: (B, F', H', W', latent_channels), H', W' ≥ 2 with reflect."""
        _check_5d(latent, "latent", self.args.latent_channels, "the decoder")
        _, f, h, w, _ = latent.shape
        least = 2 if self.args.spatial_padding_mode == "reflect" else 1
        if f < 1 or h < least or w < least:
            rule = " (reflect padding needs 2 per side)" if least == 2 else ""
            raise ValueError(f"latent is {f}x{h}x{w} (F'xH'xW'); each must be at least {least}{rule}")

    def __call__(
        self,
        sample: mx.array,
        timestep: mx.array | float | None = None,
        generator: NoiseGenerator | None = None,
        intermediates: dict[str, mx.array] | None = None,
    ) -> mx.array:
        """Decode (B, F', H', W', C) to (B, F, H, W, 3).

        Timestep-conditioned decoders first blend in noise (``0.025·noise + 0.975·latent``, noise from
        ``generator``) and condition on ``timestep`` (default 0.05) times the learnt multiplier; noise-injecting
        blocks draw from ``generator`` too, in the reference's order.
        """
        self.check_latent(sample)
        record = intermediates.__setitem__ if intermediates is not None else lambda _k, _v: None
        sample = sample.astype(layer_dtype(self.conv_in.conv))  # as the reference's decode(dtype=vae_dtype)
        batch = sample.shape[0]
        scaled = None
        if self.timestep_conditioning:
            noise = normal_noise(generator, tuple(sample.shape), sample.dtype) * self.decode_noise_scale
            sample = noise + (1.0 - self.decode_noise_scale) * sample
            if timestep is None:
                timestep = self.decode_timestep
            timestep = mx.broadcast_to(mx.array(timestep, dtype=sample.dtype), (batch,))
            scaled = timestep * self.timestep_scale_multiplier.astype(sample.dtype)
        x = self.conv_in(self.per_channel_statistics.un_normalize(sample), causal=self.causal)
        record("conv_in", x)
        for i, block in enumerate(self.up_blocks):
            if isinstance(block, UNetMidBlock3D):
                x = block(x, causal=self.causal, timestep=scaled, generator=generator)
            else:
                x = block(x, causal=self.causal)
            record(f"up_blocks.{i}", x)
        x = self.conv_norm_out(x)
        record("conv_norm_out", x)
        if scaled is not None:  # set above exactly when timestep_conditioning
            embedded = self.last_time_embedder(scaled.flatten(), hidden_dtype=x.dtype)
            ada = self.last_scale_shift_table.astype(x.dtype) + embedded.reshape(batch, 2, -1)
            x = x * (1 + ada[:, 1, None, None, None]) + ada[:, 0, None, None, None]
        return self.conv_out(nn.silu(x), causal=self.causal, post=lambda y: _unpatchify(y, self.patch_size))

    def tiled_decode(
        self,
        latent: mx.array,
        tiling_config: TilingConfig | None = None,
        timestep: mx.array | float | None = None,
        generator: NoiseGenerator | None = None,
        group: mx.distributed.Group | None = None,
        on_tile: Callable[[int, int], None] | None = None,
    ) -> Iterator[mx.array]:
        """Decode tile by tile and yield finished frame chunks (B, frames, H, W, 3), as the reference does
        (``group``: the tiles spread over its ranks, every rank gets every chunk); ``on_tile(done, total)`` follows
        the tiles.

        Concatenating the chunks on axis 1 gives the whole video. Raises at the call (not at the first chunk) on a
        latent that does not fit.
        """
        self.check_latent(latent)
        if (self.time_factor, self.space_factor) != (TIME_SCALE, SPACE_SCALE):
            raise ValueError(
                f"tiled decoding needs a decoder that upsamples {TIME_SCALE}x in time and {SPACE_SCALE}x in space; "
                f"this one upsamples {self.time_factor}x and {self.space_factor}x"
            )
        return tiled_decode(lambda t: self(t, timestep, generator), latent, tiling_config, group, on_tile)
