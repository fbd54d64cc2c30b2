"""Space-to-depth downsampling and depth-to-space upsampling blocks (ports model/video_vae/sampling.py)."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.video_vae.convolution import CausalConv3d

Stride = tuple[int, int, int]


def space_to_depth(x: mx.array, stride: Stride) -> mx.array:
    """``b (d p1) (h p2) (w p3) c -> b d h w (c p1 p2 p3)`` in channels-last layout."""
    b, f, h, w, c = x.shape
    p1, p2, p3 = stride
    x = x.reshape(b, f // p1, p1, h // p2, p2, w // p3, p3, c)
    x = x.transpose(0, 1, 3, 5, 7, 2, 4, 6)
    return x.reshape(b, f // p1, h // p2, w // p3, c * p1 * p2 * p3)


def depth_to_space(x: mx.array, stride: Stride) -> mx.array:
    """``b d h w (c p1 p2 p3) -> b (d p1) (h p2) (w p3) c``, the inverse of ``space_to_depth``."""
    b, f, h, w, cp = x.shape
    p1, p2, p3 = stride
    c = cp // (p1 * p2 * p3)
    x = x.reshape(b, f, h, w, c, p1, p2, p3)
    x = x.transpose(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, f * p1, h * p2, w * p3, c)


class SpaceToDepthDownsample(nn.Module):
    """Encoder ``compress_*_res``: causal conv to ``out/prod(stride)`` then space-to-depth, plus a skip that is the
    space-to-depth of the input averaged over channel groups. A time stride of 2 first repeats frame 0."""

    def __init__(self, in_channels: int, out_channels: int, stride: Stride, spatial_padding_mode: str = "zeros"):
        super().__init__()
        factor = math.prod(stride)
        if (in_channels * factor) % out_channels or out_channels % factor:
            raise ValueError(
                f"SpaceToDepthDownsample: out_channels={out_channels} must divide in_channels*{factor} and be a "
                f"multiple of {factor}"
            )
        self.stride = stride
        self.group_size = in_channels * factor // out_channels
        self.conv = CausalConv3d(in_channels, out_channels // factor, 3, spatial_padding_mode)

    def __call__(self, x: mx.array, causal: bool = True) -> mx.array:
        """(B, F, H, W, Cin) -> (B, F/st, H/ss, W/ss, Cout) (F+1 frames when the time stride is 2)."""
        if self.stride[0] == 2:
            x = mx.concatenate([x[:, :1], x], axis=1)
        skip = space_to_depth(x, self.stride)
        skip = skip.reshape(*skip.shape[:4], -1, self.group_size).mean(axis=-1)
        return space_to_depth(self.conv(x, causal=causal), self.stride) + skip


class DepthToSpaceUpsample(nn.Module):
    """Decoder ``compress_*``: conv to ``prod(stride)·in/reduction`` channels, depth-to-space, first frame dropped
    after a temporal upsampling. ``residual`` adds the depth-to-space of the input tiled over channels."""

    def __init__(
        self,
        in_channels: int,
        stride: Stride,
        residual: bool = False,
        out_channels_reduction_factor: int = 1,
        spatial_padding_mode: str = "zeros",
    ):
        super().__init__()
        factor = math.prod(stride)
        if in_channels % out_channels_reduction_factor or (residual and in_channels % factor):
            rule = f"a multiple of the multiplier {out_channels_reduction_factor}"
            if residual:
                rule += f" and (residual) of {factor}"
            raise ValueError(f"DepthToSpaceUpsample: in_channels={in_channels} must be {rule}")
        self.stride = stride
        self.residual = residual
        self.out_channels_reduction_factor = out_channels_reduction_factor
        self.out_channels = factor * in_channels // out_channels_reduction_factor
        self.conv = CausalConv3d(in_channels, self.out_channels, 3, spatial_padding_mode)

    def __call__(self, x: mx.array, causal: bool = True) -> mx.array:
        """(B, F, H, W, Cin) -> (B, F·st (−1), H·ss, W·ss, Cin/reduction)."""
        drop = 1 if self.stride[0] == 2 else 0
        y = self.conv(x, causal=causal, post=lambda v: depth_to_space(v, self.stride))[:, drop:]
        if not self.residual:
            return y
        repeats = math.prod(self.stride) // self.out_channels_reduction_factor
        skip = depth_to_space(x, self.stride)[:, drop:]
        return y + mx.tile(skip, (1, 1, 1, 1, repeats))
