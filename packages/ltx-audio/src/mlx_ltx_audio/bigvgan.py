"""BigVGAN v2 parts of ltx_core/model/audio_vae/vocoder.py: sinc filters, Activation1d, SnakeBeta, AMPBlock1.

Channels-last throughout: activations are (B, L, C), conv weights (C_out, K, C_in). The fixed filters are
computed here; the Kaiser ones are also checkpoint buffers (``…upsample.filter``, ``…downsample.lowpass.filter``),
held as parameters initialised to the computed values so a checkpoint's copy (possibly bfloat16-rounded, which the
reference then uses) loads over them.
"""

from __future__ import annotations

import functools
import math

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_audio.conv1d import Conv1d

# torchaudio.functional.resample defaults, reproduced by the BWE skip-path upsampler
HANN_ROLLOFF = 0.99
HANN_ZERO_CROSSINGS = 6


def hann_sinc_filter1d(ratio: int) -> np.ndarray:
    """Hann-windowed sinc interpolation filter equal to torchaudio's resample kernel for ×ratio; (2·7·ratio+1,)."""
    width = math.ceil(HANN_ZERO_CROSSINGS / HANN_ROLLOFF)
    time = (np.arange(2 * width * ratio + 1) / ratio - width) * HANN_ROLLOFF
    clamped = np.clip(time, -HANN_ZERO_CROSSINGS, HANN_ZERO_CROSSINGS)
    window = np.cos(clamped * math.pi / HANN_ZERO_CROSSINGS / 2) ** 2
    return np.sinc(time) * window * HANN_ROLLOFF / ratio


def kaiser_sinc_filter1d(cutoff: float, half_width: float, kernel_size: int) -> np.ndarray:
    """Kaiser-windowed sinc low-pass (BigVGAN), normalised to unit DC gain; float64 (kernel_size,)."""
    half = kernel_size // 2
    amplitude = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    if amplitude > 50.0:
        beta = 0.1102 * (amplitude - 8.7)
    elif amplitude >= 21.0:
        beta = 0.5842 * (amplitude - 21) ** 0.4 + 0.07886 * (amplitude - 21.0)
    else:
        beta = 0.0
    window = np.kaiser(kernel_size, beta)
    even = kernel_size % 2 == 0
    time = np.arange(-half, half) + 0.5 if even else np.arange(kernel_size) - half
    if cutoff == 0:
        return np.zeros(kernel_size)
    taps = 2 * cutoff * window * np.sinc(2 * cutoff * time)
    return taps / taps.sum()


# Activation1d always uses ratio 2 and 12 taps: cutoff 0.25, half width 0.3 (ltx-convert checks checkpoints with it)
ACTIVATION_FILTER = kaiser_sinc_filter1d(0.25, 0.3, 12)


# outputs per block of the blocked-GEMM filters (a small batched GEMM beats per-tap elementwise passes 5-15x)
FIR_BLOCK = 8


@functools.cache
def _fir_index(rows: int, cols: int, u_step: int, w_step: int, offset: int, k: int) -> mx.array:
    """Tap index ``offset + u·u_step + w·w_step`` of matrix entry (u, w), or ``k`` (a zero tap) when out of range."""
    u, w = np.arange(rows)[:, None], np.arange(cols)[None]
    idx = offset + u * u_step + w * w_step
    return mx.array(np.where((idx >= 0) & (idx < k), idx, k))


def _blocked_fir(x: mx.array, taps: mx.array, index: mx.array, hop: int, blocks: int) -> mx.array:
    """out[:, q·P + u] = Σ_w taps[index[u, w]] · x[:, q·hop + w] for q < blocks: (B, L, C) -> (B, blocks·P, C)."""
    b, length, c = x.shape
    rows, cols = index.shape
    need = (blocks - 1) * hop + cols
    if need > length:
        x = mx.pad(x, [(0, 0), (0, need - length), (0, 0)])
    windows = mx.as_strided(x, (b, blocks, cols, c), (x.shape[1] * c, hop * c, c, 1))
    matrix = mx.concatenate([taps, mx.zeros((1,), taps.dtype)])[index]
    return (matrix @ windows).reshape(b, blocks * rows, c)


def upsample_fir(x: mx.array, taps: mx.array, ratio: int) -> mx.array:
    """Depthwise transposed convolution with one filter for all channels, stride ``ratio``.

    x: (B, L, C), taps: (K,). Returns (B, (L − 1)·ratio + K, C) with y[i·ratio + j] = Σ x[i]·taps[j].
    """
    length, k = x.shape[1], taps.shape[0]
    m = math.ceil(k / ratio)  # inputs that reach one output
    n = (length - 1) * ratio + k
    # block q: outputs q·P·ratio + u from inputs q·P − (m − 1) + w, tap u + (m − 1 − w)·ratio
    index = _fir_index(FIR_BLOCK * ratio, FIR_BLOCK + m - 1, 1, -ratio, (m - 1) * ratio, k)
    x = mx.pad(x, [(0, 0), (m - 1, 0), (0, 0)])
    return _blocked_fir(x, taps, index, FIR_BLOCK, math.ceil(n / (FIR_BLOCK * ratio)))[:, :n]


def downsample_fir(x: mx.array, taps: mx.array, stride: int) -> mx.array:
    """Depthwise strided convolution (no padding) with one filter for all channels: (B, L, C) -> (B, L', C).

    y[n] = Σ_j taps[j]·x[n·stride + j], L' = (L − K) // stride + 1.
    """
    k = taps.shape[0]
    n = (x.shape[1] - k) // stride + 1
    # block q: outputs q·P + u from inputs q·P·stride + w, tap w − u·stride
    index = _fir_index(FIR_BLOCK, (FIR_BLOCK - 1) * stride + k, -stride, 1, 0, k)
    return _blocked_fir(x, taps, index, FIR_BLOCK * stride, math.ceil(n / FIR_BLOCK))[:, :n]


def replicate_pad(x: mx.array, left: int, right: int) -> mx.array:
    return mx.pad(x, [(0, 0), (left, right), (0, 0)], mode="edge")


class UpSample1d(nn.Module):
    """×ratio upsampler: replicate pad, depthwise transposed conv with a sinc filter, ×ratio gain, crop."""

    def __init__(
        self, ratio: int = 2, kernel_size: int | None = None, persistent: bool = True, window_type: str = "kaiser"
    ):
        super().__init__()
        self.ratio = ratio
        if window_type == "hann":
            taps = hann_sinc_filter1d(ratio)
            width = math.ceil(HANN_ZERO_CROSSINGS / HANN_ROLLOFF)
            self.kernel_size = taps.shape[0]
            self.pad, self.pad_left, self.pad_right = width, 2 * width * ratio, self.kernel_size - ratio
        elif window_type == "kaiser":
            self.kernel_size = int(6 * ratio // 2) * 2 if kernel_size is None else kernel_size
            taps = kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, self.kernel_size)
            self.pad = self.kernel_size // ratio - 1
            self.pad_left = self.pad * ratio + (self.kernel_size - ratio) // 2
            self.pad_right = self.pad * ratio + (self.kernel_size - ratio + 1) // 2
        else:
            raise ValueError(f"UpSample1d: window_type={window_type!r} is not 'kaiser' or 'hann'")
        # a leading underscore keeps the non-persistent (BWE skip path) filter out of the parameters
        setattr(self, "filter" if persistent else "_filter", mx.array(taps.astype(np.float32)))

    @property
    def taps(self) -> mx.array:
        return self["filter"] if "filter" in self else self["_filter"]

    def __call__(self, x: mx.array) -> mx.array:
        x = replicate_pad(x, self.pad, self.pad)
        y = upsample_fir(x, self.ratio * self.taps.astype(x.dtype), self.ratio)
        return y[:, self.pad_left : y.shape[1] - self.pad_right]


class LowPassFilter1d(nn.Module):
    def __init__(self, cutoff: float = 0.5, half_width: float = 0.6, stride: int = 1, kernel_size: int = 12):
        super().__init__()
        if not 0.0 <= cutoff <= 0.5:
            raise ValueError(f"LowPassFilter1d: cutoff={cutoff} must be in [0, 0.5]")
        even = kernel_size % 2 == 0
        self.pad_left, self.pad_right = kernel_size // 2 - int(even), kernel_size // 2
        self.stride = stride
        self.filter = mx.array(kaiser_sinc_filter1d(cutoff, half_width, kernel_size).astype(np.float32))

    def __call__(self, x: mx.array) -> mx.array:
        x = replicate_pad(x, self.pad_left, self.pad_right)
        return downsample_fir(x, self.filter.astype(x.dtype), self.stride)


class DownSample1d(nn.Module):
    def __init__(self, ratio: int = 2, kernel_size: int | None = None):
        super().__init__()
        kernel_size = int(6 * ratio // 2) * 2 if kernel_size is None else kernel_size
        self.lowpass = LowPassFilter1d(0.5 / ratio, 0.6 / ratio, stride=ratio, kernel_size=kernel_size)

    def __call__(self, x: mx.array) -> mx.array:
        return self.lowpass(x)


class SnakeBeta(nn.Module):
    """x + 1/(exp(β) + 1e-9) · sin(exp(α)·x)², per channel, with log-scale α and β."""

    def __init__(self, in_features: int):
        super().__init__()
        self.alpha = mx.zeros((in_features,))
        self.beta = mx.zeros((in_features,))

    def __call__(self, x: mx.array) -> mx.array:
        alpha = mx.exp(self.alpha).astype(x.dtype)
        inv_beta = (1.0 / (mx.exp(self.beta) + 1e-9)).astype(x.dtype)
        return x + inv_beta * mx.square(mx.sin(x * alpha))


class Activation1d(nn.Module):
    """Anti-aliased activation: ×2 upsample, activation, ×2 low-pass downsample (12-tap Kaiser filters)."""

    def __init__(self, activation: nn.Module, up_ratio: int = 2, down_ratio: int = 2, kernel_size: int = 12):
        super().__init__()
        self.act = activation
        self.upsample = UpSample1d(up_ratio, kernel_size)
        self.downsample = DownSample1d(down_ratio, kernel_size)

    def __call__(self, x: mx.array) -> mx.array:
        return self.downsample(self.act(self.upsample(x)))


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    return (kernel_size * dilation - dilation) // 2


class AMPBlock1(nn.Module):
    """3 × [Activation1d → dilated conv → Activation1d → conv] residual units (BigVGAN v2)."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3, 5)):
        super().__init__()
        self.convs1 = [
            Conv1d(channels, channels, kernel_size, dilation=d, padding=get_padding(kernel_size, d)) for d in dilation
        ]
        self.convs2 = [Conv1d(channels, channels, kernel_size, padding=get_padding(kernel_size, 1)) for _ in dilation]
        self.acts1 = [Activation1d(SnakeBeta(channels)) for _ in dilation]
        self.acts2 = [Activation1d(SnakeBeta(channels)) for _ in dilation]

    def __call__(self, x: mx.array) -> mx.array:
        for c1, c2, a1, a2 in zip(self.convs1, self.convs2, self.acts1, self.acts2, strict=True):
            x = x + c2(a2(c1(a1(x))))
        return x
