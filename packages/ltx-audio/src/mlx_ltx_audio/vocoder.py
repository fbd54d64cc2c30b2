"""Mel-to-waveform generator (ports ``Vocoder`` of ltx_core/model/audio_vae/vocoder.py).

LTX-2 uses it as HiFi-GAN (resblock "1", leaky ReLU, tanh, 24 kHz); LTX-2.3 uses it twice inside
``VocoderWithBWE`` as BigVGAN v2 (resblock "AMP1", SnakeBeta, anti-aliased activations). Channels-last: mel
(B, T, 64, 2) in, waveform (B, N, 2) out. Always runs in float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_audio.bigvgan import Activation1d, AMPBlock1, SnakeBeta
from mlx_ltx_audio.conv1d import Conv1d, ConvTranspose1d
from mlx_ltx_audio.resnet import LRELU_SLOPE, ResBlock1
from mlx_ltx_core.utils import known_keys_from_dict

STEREO_MEL_CHANNELS = 128  # conv_pre input: 2 channels × 64 mel bins, hard-coded in the reference


@dataclass
class VocoderArgs:
    """One generator's config (reference defaults = the LTX-2 19B HiFi-GAN)."""

    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])
    upsample_rates: list[int] = field(default_factory=lambda: [6, 5, 2, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 15, 8, 4, 4])
    resblock_dilation_sizes: list[list[int]] = field(default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]])
    upsample_initial_channel: int = 1024
    resblock: str = "1"
    output_sampling_rate: int = 24000
    activation: str = "snake"
    use_tanh_at_final: bool = True
    apply_final_activation: bool = True
    use_bias_at_final: bool = True

    @classmethod
    def from_dict(cls, config: dict[str, Any], **overrides: Any) -> VocoderArgs:
        return known_keys_from_dict(cls, config, **overrides)

    def __post_init__(self) -> None:
        if self.resblock not in ("1", "AMP1"):
            raise ValueError(f"vocoder: resblock={self.resblock!r} is not supported (expected '1' or 'AMP1')")
        if self.resblock == "AMP1" and self.activation != "snakebeta":
            raise ValueError(
                f"vocoder: activation={self.activation!r} is not supported with AMP1 (expected 'snakebeta')"
            )
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ValueError(
                f"vocoder: upsample_rates {self.upsample_rates} and upsample_kernel_sizes "
                f"{self.upsample_kernel_sizes} must have the same length"
            )
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ValueError(
                f"vocoder: resblock_kernel_sizes {self.resblock_kernel_sizes} and resblock_dilation_sizes "
                f"{self.resblock_dilation_sizes} must have the same length"
            )
        if any(k % 2 == 0 for k in self.resblock_kernel_sizes) or any(
            len(d) != 3 for d in self.resblock_dilation_sizes
        ):
            raise ValueError(
                f"vocoder: resblock kernels {self.resblock_kernel_sizes} must be odd, with 3 dilations each"
            )
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            raise ValueError(
                f"vocoder: upsample_initial_channel={self.upsample_initial_channel} must halve "
                f"{len(self.upsample_rates)} times"
            )

    @property
    def hop(self) -> int:
        """Output samples per mel frame."""
        n = 1
        for r in self.upsample_rates:
            n *= r
        return n


class Vocoder(nn.Module):
    """Mel (B, T, 64, 2) -> waveform (B, T·∏upsample_rates, 2), float32."""

    def __init__(self, args: VocoderArgs):
        super().__init__()
        self.args = args
        self.output_sampling_rate = args.output_sampling_rate
        ch0 = args.upsample_initial_channel
        self.conv_pre = Conv1d(STEREO_MEL_CHANNELS, ch0, 7, padding=3)
        self.ups = [
            ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, s, padding=(k - s) // 2)
            for i, (s, k) in enumerate(zip(args.upsample_rates, args.upsample_kernel_sizes, strict=True))
        ]
        amp = args.resblock == "AMP1"
        block = AMPBlock1 if amp else ResBlock1
        self.resblocks = [
            block(ch0 // 2 ** (i + 1), k, tuple(d))
            for i in range(len(args.upsample_rates))
            for k, d in zip(args.resblock_kernel_sizes, args.resblock_dilation_sizes, strict=True)
        ]
        final = ch0 // 2 ** len(args.upsample_rates)
        self.act_post = Activation1d(SnakeBeta(final)) if amp else nn.LeakyReLU()  # slope 0.01, as in torch
        self.conv_post = Conv1d(final, 2, 7, padding=3, bias=args.use_bias_at_final)

    def __call__(self, mel: mx.array) -> mx.array:
        if mel.ndim != 4 or mel.shape[2:] != (STEREO_MEL_CHANNELS // 2, 2):
            raise ValueError(f"vocoder input must be a stereo mel (B, T, 64, 2), got shape {tuple(mel.shape)}")
        b, t, f, c = mel.shape
        # the reference's "b s c t -> b (s c) t": channel-major features L0..L63, R0..R63
        x = self.conv_pre(mel.astype(mx.float32).transpose(0, 1, 3, 2).reshape(b, t, c * f))
        n = len(self.args.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            if self.args.resblock == "1":
                x = nn.leaky_relu(x, LRELU_SLOPE)
            x = up(x)
            # sum's start 0 + array is an array: cast for the type checker only
            x = cast(mx.array, sum(block(x) for block in self.resblocks[i * n : (i + 1) * n])) / n
        x = self.conv_post(self.act_post(x))
        if self.args.apply_final_activation:
            x = mx.tanh(x) if self.args.use_tanh_at_final else mx.clip(x, -1.0, 1.0)
        return x
