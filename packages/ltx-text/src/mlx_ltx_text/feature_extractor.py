"""Gemma hidden states → connector inputs (ports ltx_core/text_encoders/gemma/feature_extractor.py).

Both extractors take the stacked hidden states ``(B, T, D, L)`` (D = Gemma's hidden size, L = its layers + 1)
and a binary mask ``(B, T)`` (1 = token, 0 = padding), flatten every token to ``D·L`` features (index
``d·L + l``) with padded tokens zeroed, and project them. Normalisation runs in float32 whatever the model dtype.
"""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn

_EPS = 1e-6


def norm_and_concat_padded_batch(hidden_states: mx.array, attention_mask: mx.array) -> mx.array:
    """LTX-2: per sample and layer, ``8·(x − mean)/(max − min + 1e-6)`` over the valid tokens × D → (B, T, D·L)."""
    b, t, d, n_layers = hidden_states.shape
    x = hidden_states.astype(mx.float32)
    valid = attention_mask.astype(mx.bool_)[:, :, None, None]
    count = attention_mask.astype(mx.float32).sum(axis=-1).reshape(b, 1, 1, 1) * d
    mean = mx.where(valid, x, 0.0).sum(axis=(1, 2), keepdims=True) / (count + _EPS)
    x_min = mx.where(valid, x, mx.inf).min(axis=(1, 2), keepdims=True)
    x_max = mx.where(valid, x, -mx.inf).max(axis=(1, 2), keepdims=True)
    normed = (8 * (x - mean) / (x_max - x_min + _EPS)).reshape(b, t, d * n_layers)
    return mx.where(valid[..., 0], normed, 0.0)


def norm_and_concat_per_token_rms(hidden_states: mx.array, attention_mask: mx.array) -> mx.array:
    """LTX-2.3: RMS norm of every token of every layer over D (no weight) → (B, T, D·L)."""
    b, t, d, n_layers = hidden_states.shape
    x = hidden_states.astype(mx.float32)
    normed = x * mx.rsqrt(mx.mean(x * x, axis=2, keepdims=True) + _EPS)
    normed = normed.reshape(b, t, d * n_layers)
    return mx.where(attention_mask.astype(mx.bool_)[..., None], normed, 0.0)


class FeatureExtractorV1(nn.Module):
    """LTX-2 19B: per-segment norm → ``aggregate_embed`` (no bias) → D; video and audio share the features."""

    def __init__(self, embedding_dim: int, num_hidden_states: int):
        super().__init__()
        self.aggregate_embed = nn.Linear(embedding_dim * num_hidden_states, embedding_dim, bias=False)

    def __call__(self, hidden_states: mx.array, attention_mask: mx.array) -> tuple[mx.array, mx.array]:
        """(B, T, D, L), (B, T) → video and audio features, both (B, T, D)."""
        normed = norm_and_concat_padded_batch(hidden_states, attention_mask).astype(hidden_states.dtype)
        features = self.aggregate_embed(normed)
        return features, features


class FeatureExtractorV2(nn.Module):
    """LTX-2.3 22B: per-token RMS norm → ``x·√(out/D)`` → video and audio aggregate embeds (with bias)."""

    def __init__(self, embedding_dim: int, num_hidden_states: int, video_dim: int, audio_dim: int):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.video_aggregate_embed = nn.Linear(embedding_dim * num_hidden_states, video_dim)
        self.audio_aggregate_embed = nn.Linear(embedding_dim * num_hidden_states, audio_dim)

    def __call__(self, hidden_states: mx.array, attention_mask: mx.array) -> tuple[mx.array, mx.array]:
        """(B, T, D, L), (B, T) → video (B, T, video_dim) and audio (B, T, audio_dim) features."""
        normed = norm_and_concat_per_token_rms(hidden_states, attention_mask).astype(hidden_states.dtype)
        return self._embed(self.video_aggregate_embed, normed), self._embed(self.audio_aggregate_embed, normed)

    def _embed(self, linear: nn.Linear, normed: mx.array) -> mx.array:
        # The reference's _rescale_norm: keep the feature scale when the output width differs from Gemma's.
        return linear(normed * math.sqrt(linear.weight.shape[0] / self.embedding_dim))
