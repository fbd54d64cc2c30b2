"""1-D convolutions of the vocoders as GEMMs (torch.nn.Conv1d / ConvTranspose1d as used in vocoder.py).

On the CPU, MLX's native ``conv1d`` with dilation runs ~100x below GEMM speed and ``conv_transpose1d`` 20-80x;
these formulations are exact (up to summation order) and run at OpenBLAS speed. Channels-last, MLX weight
layout (C_out, K, C_in), keys ``weight`` / ``bias`` like ``mlx.nn``.
"""

from __future__ import annotations

import math
from typing import cast

import mlx.core as mx
import mlx.nn as nn


def overlap_add(taps: mx.array, stride: int) -> mx.array:
    """Sum per-input-frame kernel responses into the full transposed-convolution output.

    taps: (B, L, K, C), the response of input frame i at output positions i*stride + k.
    Returns (B, (L - 1) * stride + K, C).
    """
    b, length, k, c = taps.shape
    m = math.ceil(k / stride)
    if m * stride != k:
        taps = mx.pad(taps, [(0, 0), (0, 0), (0, m * stride - k), (0, 0)])
    taps = taps.reshape(b, length, m, stride, c)
    # chunk j of the kernel lands j frames later: shift each chunk and sum (sum's start 0 + array is an array)
    out = cast(mx.array, sum(mx.pad(taps[:, :, j], [(0, 0), (j, m - 1 - j), (0, 0), (0, 0)]) for j in range(m)))
    out = out.reshape(b, (length + m - 1) * stride, c)
    return out[:, : (length - 1) * stride + k]


class Conv1d(nn.Module):
    """(B, L, C_in) -> (B, L + 2·padding − dilation·(K − 1), C_out), stride 1: one accumulated GEMM per tap."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        scale = math.sqrt(1.0 / (in_channels * kernel_size))
        self.weight = mx.random.uniform(-scale, scale, (out_channels, kernel_size, in_channels))
        if bias:
            self.bias = mx.zeros((out_channels,))
        self.padding = padding
        self.dilation = dilation

    def __call__(self, x: mx.array) -> mx.array:
        c_out, k, c_in = self.weight.shape
        if self.padding:
            x = mx.pad(x, [(0, 0), (self.padding, self.padding), (0, 0)])
        b, length, _ = x.shape
        n = length - self.dilation * (k - 1)
        w = self.weight.astype(x.dtype)
        out = None
        for j in range(k):
            tap = x[:, j * self.dilation : j * self.dilation + n].reshape(b * n, c_in)
            out = tap @ w[:, j].T if out is None else mx.addmm(out, tap, w[:, j].T)
        assert out is not None  # the kernel has at least one tap
        out = out.reshape(b, n, c_out)
        return out + self.bias.astype(x.dtype) if "bias" in self else out


class ConvTranspose1d(nn.Module):
    """Channels-last transposed 1-D convolution: (B, L, C_in) -> (B, (L-1)·stride - 2·padding + K, C_out).

    ``weight`` has MLX layout (C_out, K, C_in), like ``mlx.nn.ConvTranspose1d``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if stride < 1 or padding < 0 or 2 * padding >= kernel_size:
            raise ValueError(f"ConvTranspose1d: invalid stride={stride} / padding={padding} for kernel {kernel_size}")
        scale = math.sqrt(1.0 / (in_channels * kernel_size))
        self.weight = mx.random.uniform(-scale, scale, (out_channels, kernel_size, in_channels))
        if bias:
            self.bias = mx.zeros((out_channels,))
        self.stride = stride
        self.padding = padding

    def __call__(self, x: mx.array) -> mx.array:
        c_out, k, c_in = self.weight.shape
        b, length, _ = x.shape
        w = self.weight.transpose(2, 1, 0).reshape(c_in, k * c_out).astype(x.dtype)
        taps = (x.reshape(b * length, c_in) @ w).reshape(b, length, k, c_out)
        y = overlap_add(taps, self.stride)
        y = y[:, self.padding : y.shape[1] - self.padding]
        return y + self.bias if "bias" in self else y
