"""``AttnBlock3D``: per-frame single-head spatial self-attention of the video VAE (ports video_vae/attention.py).

Channels-last. ``norm`` is ``x / max(‖x‖, 1e-12) · √C · gamma`` over channels; ``to_qkv`` / ``proj`` are the
reference's 1×1 convolutions, held as Linears (ltx-convert drops their trailing 1×1). Frames never attend to each
other; a residual wraps the block. Used by the 16×16×4 VAE variant, not by the shipped 2.5 VAEs.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn


class _RMSNorm2D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = mx.ones((channels,))

    def __call__(self, x: mx.array) -> mx.array:
        norm = mx.sqrt(mx.sum(x * x, axis=-1, keepdims=True))
        return x / mx.maximum(norm, 1e-12) * (x.shape[-1] ** 0.5 * self.gamma)


class AttnBlock3D(nn.Module):
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.norm = _RMSNorm2D(in_channels)
        self.to_qkv = nn.Linear(in_channels, 3 * in_channels)
        self.proj = nn.Linear(in_channels, in_channels)

    def __call__(self, x: mx.array, causal: bool = True) -> mx.array:
        """(B, F, H, W, C) -> same; ``causal`` is accepted and ignored, as in the reference."""
        del causal
        b, f, h, w, c = x.shape
        qkv = self.to_qkv(self.norm(x)).reshape(b * f, 1, h * w, 3 * c)
        q, k, v = mx.split(qkv, 3, axis=-1)
        out = mx.fast.scaled_dot_product_attention(q, k, v, scale=c**-0.5)
        return x + self.proj(out.reshape(b, f, h, w, c))
