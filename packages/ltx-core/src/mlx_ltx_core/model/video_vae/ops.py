"""Patchify, PixelNorm, per-channel latent statistics and the noise source (ports model/video_vae/ops.py)."""

from __future__ import annotations

from collections.abc import Callable

import mlx.core as mx
import mlx.nn as nn

# The reference's torch.Generator: ``generator(shape, dtype)`` returns standard-normal noise of that shape.
NoiseGenerator = Callable[[tuple[int, ...], mx.Dtype], mx.array]


def patchify(x: mx.array, patch_size: int) -> mx.array:
    """Space-to-depth ``(B, F, H, W, C) -> (B, F, H/p, W/p, C·p²)``.

    Channel order is the reference's ``(c r q)``: channel ``c·p² + r·p + q`` holds pixel ``(q, r)`` of the patch,
    i.e. the width sub-index comes before the height sub-index.
    """
    if patch_size == 1:
        return x
    b, f, h, w, c = x.shape
    x = x.reshape(b, f, h // patch_size, patch_size, w // patch_size, patch_size, c)
    x = x.transpose(0, 1, 2, 4, 6, 5, 3)  # b f h' w' c r q
    return x.reshape(b, f, h // patch_size, w // patch_size, c * patch_size * patch_size)


def unpatchify(x: mx.array, patch_size: int) -> mx.array:
    """Depth-to-space ``(B, F, H, W, C·p²) -> (B, F, H·p, W·p, C)``, the inverse of ``patchify``."""
    if patch_size == 1:
        return x
    b, f, h, w, cpp = x.shape
    c = cpp // (patch_size * patch_size)
    x = x.reshape(b, f, h, w, c, patch_size, patch_size)  # b f h w c r q
    x = x.transpose(0, 1, 2, 6, 3, 5, 4)  # b f h q w r c
    return x.reshape(b, f, h * patch_size, w * patch_size, c)


class PixelNorm(nn.Module):
    """``x / sqrt(mean(x², channels) + eps)`` over the last axis, no affine (the video VAE uses eps 1e-8)."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def __call__(self, x: mx.array) -> mx.array:
        return mx.fast.rms_norm(x, None, self.eps)


class PerChannelStatistics(nn.Module):
    """Dataset statistics of the latent channels (checkpoint keys ``std-of-means`` and ``mean-of-means``)."""

    def __init__(self, latent_channels: int = 128):
        super().__init__()
        # Hyphenated reference buffer names: set as dict entries so the keys map 1:1.
        self["std-of-means"] = mx.ones((latent_channels,))
        self["mean-of-means"] = mx.zeros((latent_channels,))

    def un_normalize(self, x: mx.array) -> mx.array:
        """``x·std + mean`` over the last (channel) axis."""
        return x * self["std-of-means"].astype(x.dtype) + self["mean-of-means"].astype(x.dtype)

    def normalize(self, x: mx.array) -> mx.array:
        """``(x − mean) / std`` over the last (channel) axis."""
        return (x - self["mean-of-means"].astype(x.dtype)) / self["std-of-means"].astype(x.dtype)


def random_noise(seed: int) -> NoiseGenerator:
    """A seeded ``NoiseGenerator``: successive calls draw successive independent normals, like a torch.Generator."""
    state = {"key": mx.random.key(seed)}

    def draw(shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        state["key"], sub = mx.random.split(state["key"])
        return mx.random.normal(shape, dtype=dtype, key=sub)

    return draw


def normal_noise(generator: NoiseGenerator | None, shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
    """Draw from ``generator``, or from MLX's global random state when it is None (the reference's default)."""
    if generator is None:
        return mx.random.normal(shape, dtype=dtype)
    return generator(shape, dtype)
