"""Audio VAE encoder and decoder (ports ltx_core/model/audio_vae/audio_vae.py).

Channels-last: mel spectrograms are (B, T, n_mels, C=2) and latents (B, T', F'=n_mels/4, z_channels); the
reference's (B, C, T, F) is transposed only at the file/test boundary. The transformer's audio patchify
``b c t f -> b t (c f)`` (channel-major) is ``patchify`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_audio.causal_conv_2d import CausalConv2d
from mlx_ltx_audio.downsample import Downsample
from mlx_ltx_audio.ops import PerChannelStatistics
from mlx_ltx_audio.resnet import ResnetBlock, pixel_norm
from mlx_ltx_audio.upsample import Upsample
from mlx_ltx_core.utils import check_config_values, known_keys

LATENT_DOWNSAMPLE_FACTOR = 4  # two ×2 stages on time and frequency (hard-coded in the reference)


@dataclass
class AudioVAEArgs:
    """The ddconfig of ``config["audio_vae"]`` plus the preprocessing values the VAE reads (reference defaults)."""

    ch: int = 128
    out_ch: int = 2
    ch_mult: tuple[int, ...] = (1, 2, 4)
    num_res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (8, 16, 32)
    resolution: int = 256
    z_channels: int = 8
    double_z: bool = True
    in_channels: int = 2
    dropout: float = 0.0
    resamp_with_conv: bool = True
    attn_type: str = "vanilla"
    mid_block_add_attention: bool = True
    norm_type: str = "pixel"
    causality_axis: str = "height"
    sample_rate: int = 16000
    mel_hop_length: int = 160
    n_fft: int = 1024
    is_causal: bool = True
    mel_bins: int | None = None

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> AudioVAEArgs:
        """From the checkpoint's ``config["audio_vae"]`` (``model.params.ddconfig`` + ``preprocessing``)."""
        params = config.get("model", {}).get("params", {})
        dd = params.get("ddconfig", {})
        pre = config.get("preprocessing", {})
        stft, mel = pre.get("stft", {}), pre.get("mel", {})
        values = known_keys(cls, dd)
        values.update(
            sample_rate=params.get("sampling_rate", 16000),
            mel_hop_length=stft.get("hop_length", 160),
            n_fft=stft.get("filter_length", 1024),
            is_causal=stft.get("causal", True),
            mel_bins=dd.get("mel_bins") or mel.get("n_mel_channels") or config.get("variables", {}).get("mel_bins"),
        )
        for key in ("ch_mult", "attn_resolutions"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def __post_init__(self) -> None:
        check_config_values(
            {**self.__dict__, "attn_resolutions": tuple(self.attn_resolutions)},
            {
                "norm_type": "pixel",
                "causality_axis": "height",
                "attn_resolutions": (),
                "mid_block_add_attention": False,
                "resamp_with_conv": True,
                "double_z": True,
            },
            "audio_vae",
        )
        if len(self.ch_mult) != 3:
            raise ValueError(f"audio_vae: ch_mult={list(self.ch_mult)} must have 3 levels (latent downsample ×4)")
        if self.mel_bins is None or self.mel_bins % LATENT_DOWNSAMPLE_FACTOR:
            raise ValueError(f"audio_vae: mel_bins={self.mel_bins} must be set and divisible by 4")
        if self.ch != self.z_channels * self.mel_bins // LATENT_DOWNSAMPLE_FACTOR:
            raise ValueError(
                f"audio_vae: ch={self.ch} must equal z_channels·mel_bins/4 = {self.z_channels * self.mel_bins // 4} "
                "(the per-channel statistics cover the patchified latent)"
            )


def patchify(latent: mx.array) -> mx.array:
    """(B, T, F, C) -> (B, T, C·F), channel-major like the reference's ``b c t f -> b t (c f)``."""
    b, t, f, c = latent.shape
    return latent.transpose(0, 1, 3, 2).reshape(b, t, c * f)


def unpatchify(tokens: mx.array, channels: int) -> mx.array:
    """(B, T, C·F) -> (B, T, F, C), the inverse of ``patchify``."""
    b, t, cf = tokens.shape
    return tokens.reshape(b, t, channels, cf // channels).transpose(0, 1, 3, 2)


class MidBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.block_1 = ResnetBlock(in_channels=channels)
        self.block_2 = ResnetBlock(in_channels=channels)  # attn_1 is Identity in every LTX config

    def __call__(self, x: mx.array) -> mx.array:
        return self.block_2(self.block_1(x))


class DownBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, downsample: bool):
        super().__init__()
        self.block = [
            ResnetBlock(in_channels=in_channels if i == 0 else out_channels, out_channels=out_channels)
            for i in range(num_blocks)
        ]
        if downsample:
            self.downsample = Downsample(out_channels)

    def __call__(self, x: mx.array) -> mx.array:
        for block in self.block:
            x = block(x)
        return self.downsample(x) if "downsample" in self else x


class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, upsample: bool):
        super().__init__()
        self.block = [
            ResnetBlock(in_channels=in_channels if i == 0 else out_channels, out_channels=out_channels)
            for i in range(num_blocks)
        ]
        if upsample:
            self.upsample = Upsample(out_channels)

    def __call__(self, x: mx.array) -> mx.array:
        for block in self.block:
            x = block(x)
        return self.upsample(x) if "upsample" in self else x


class AudioEncoder(nn.Module):
    """Log-mel (B, T, n_mels, 2) -> normalised latent means (B, ⌈T/4⌉, n_mels/4, z_channels)."""

    def __init__(self, args: AudioVAEArgs):
        super().__init__()
        self.args = args
        chans = [args.ch * m for m in args.ch_mult]
        self.per_channel_statistics = PerChannelStatistics(args.ch)
        self.conv_in = CausalConv2d(args.in_channels, args.ch, kernel_size=3)
        ins = [args.ch, *chans[:-1]]
        self.down = [
            DownBlock(ins[i], chans[i], args.num_res_blocks, downsample=i < len(chans) - 1) for i in range(len(chans))
        ]
        self.mid = MidBlock(chans[-1])
        self.conv_out = CausalConv2d(chans[-1], 2 * args.z_channels, kernel_size=3)

    def __call__(self, mel: mx.array) -> mx.array:
        h = self.conv_in(mel)
        for stage in self.down:
            h = stage(h)
        h = self.conv_out(nn.silu(pixel_norm(self.mid(h))))
        means = h[..., : self.args.z_channels]  # double_z: (means, logvar) along channels
        return unpatchify(self.per_channel_statistics.normalize(patchify(means)), self.args.z_channels)


class AudioDecoder(nn.Module):
    """Latent (B, T', F', z_channels) -> log-mel (B, 4T'−3, mel_bins, out_ch), cropped or zero-padded to that shape."""

    def __init__(self, args: AudioVAEArgs):
        super().__init__()
        self.args = args
        chans = [args.ch * m for m in args.ch_mult]
        self.per_channel_statistics = PerChannelStatistics(args.ch)
        self.conv_in = CausalConv2d(args.z_channels, chans[-1], kernel_size=3)
        self.mid = MidBlock(chans[-1])
        # up[i] runs in the order up[n-1] … up[0]; its input is the next level's output
        ins = [*chans[1:], chans[-1]]
        self.up = [UpBlock(ins[i], chans[i], args.num_res_blocks + 1, upsample=i != 0) for i in range(len(chans))]
        self.conv_out = CausalConv2d(chans[0], args.out_ch, kernel_size=3)

    def __call__(self, latent: mx.array) -> mx.array:
        _, t, _, c = latent.shape
        x = unpatchify(self.per_channel_statistics.un_normalize(patchify(latent)), c)
        h = self.mid(self.conv_in(x))
        for stage in reversed(self.up):
            h = stage(h)
        h = self.conv_out(nn.silu(pixel_norm(h)))
        return self._adjust_output_shape(h, max(t * LATENT_DOWNSAMPLE_FACTOR - (LATENT_DOWNSAMPLE_FACTOR - 1), 1))

    def _adjust_output_shape(self, h: mx.array, frames: int) -> mx.array:
        bins = self.args.mel_bins
        assert bins is not None  # AudioVAEArgs refuses None
        h = h[:, :frames, :bins, : self.args.out_ch]
        pad_t, pad_f = frames - h.shape[1], bins - h.shape[2]
        if pad_t > 0 or pad_f > 0:
            h = mx.pad(h, [(0, 0), (0, pad_t), (0, pad_f), (0, 0)])
        return h
