"""Sinusoidal timestep features and the PixArt-α timestep MLP (ports model/transformer/timestep_embedding.py)."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn


def get_timestep_embedding(
    timesteps: mx.array,
    embedding_dim: int,
    flip_sin_to_cos: bool = False,
    downscale_freq_shift: float = 1.0,
    scale: float = 1.0,
    max_period: int = 10000,
) -> mx.array:
    """(N,) timesteps → (N, embedding_dim) [sin | cos] features, computed in float32 like the reference."""
    half = embedding_dim // 2
    exponent = -math.log(max_period) * mx.arange(half, dtype=mx.float32) / (half - downscale_freq_shift)
    emb = timesteps.astype(mx.float32)[:, None] * mx.exp(exponent)[None, :]
    emb = scale * emb
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

    def __call__(self, timestep: mx.array, hidden_dtype: mx.Dtype) -> mx.array:
        """(N,) → (N, embedding_dim); the sinusoid is float32, the MLP runs in ``hidden_dtype``."""
        proj = get_timestep_embedding(timestep, 256, flip_sin_to_cos=True, downscale_freq_shift=0)
        return self.timestep_embedder(proj.astype(hidden_dtype))
