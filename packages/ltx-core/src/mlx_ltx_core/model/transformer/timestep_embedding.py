"""Sinusoidal timestep features and the PixArt-α timestep MLP (ports model/transformer/timestep_embedding.py)."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_core.model.transformer.rope import reduced_angles


def get_timestep_embedding(
    timesteps: mx.array,
    embedding_dim: int,
    flip_sin_to_cos: bool = False,
    downscale_freq_shift: float = 1.0,
    scale: float = 1.0,
    max_period: int = 10000,
) -> mx.array:
    """(N,) timesteps → (N, embedding_dim) float32 [sin | cos] features.

    The angles reach 1000 rad (σ·1000), where a float32 product is off by ~6e-5 rad; they are formed in float64
    and reduced mod 2π first (as the RoPE angles), so the features are exact to float32 rounding.
    """
    half = embedding_dim // 2
    freqs = np.exp(-math.log(max_period) * np.arange(half, dtype=np.float64) / (half - downscale_freq_shift))
    with mx.stream(mx.cpu):  # float64 exists on the CPU only
        angles = timesteps.astype(mx.float64)[:, None] * mx.array(freqs * scale, dtype=mx.float64)[None, :]
        emb = reduced_angles(angles)
    emb = mx.concatenate([mx.sin(emb), mx.cos(emb)], axis=-1)
    if flip_sin_to_cos:
        emb = mx.concatenate([emb[:, half:], emb[:, :half]], axis=-1)
    if embedding_dim % 2 == 1:
        emb = mx.pad(emb, [(0, 0), (0, 1)])
    return emb


class TimestepEmbedding(nn.Module):
    """Linear → SiLU → Linear."""

    def __init__(self, in_channels: int, time_embed_dim: int, out_dim: int | None = None):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.linear_2 = nn.Linear(time_embed_dim, out_dim or time_embed_dim)

    def __call__(self, sample: mx.array) -> mx.array:
        return self.linear_2(nn.silu(self.linear_1(sample)))


class PixArtAlphaCombinedTimestepSizeEmbeddings(nn.Module):
    """Timestep → 256 sinusoid features (cos first) → MLP to ``embedding_dim``."""

    def __init__(self, embedding_dim: int):
        super().__init__()
        self.timestep_embedder = TimestepEmbedding(in_channels=256, time_embed_dim=embedding_dim)

    def __call__(self, timestep: mx.array, hidden_dtype: mx.Dtype, scale: float = 1.0) -> mx.array:
        """(N,) → (N, embedding_dim) of ``timestep·scale``; float32 sinusoid, the MLP in ``hidden_dtype``."""
        proj = get_timestep_embedding(timestep, 256, flip_sin_to_cos=True, downscale_freq_shift=0, scale=scale)
        return self.timestep_embedder(proj.astype(hidden_dtype))
