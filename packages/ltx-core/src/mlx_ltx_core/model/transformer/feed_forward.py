"""Feed-forward block and caption projection (ports feed_forward.py, gelu_approx.py, text_projection.py)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn


class GELUApprox(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, bias: bool = True):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out, bias=bias)

    def __call__(self, x: mx.array) -> mx.array:
        return nn.gelu_approx(self.proj(x))


class FeedForward(nn.Module):
    """Linear(D, 4D) → GELU(tanh) → Linear(4D, D); ``net`` keeps the reference's indices (0, 2).
    ``bias=False``: LTX-2.5's video feed-forward (config ``ff_bias``)."""

    def __init__(self, dim: int, dim_out: int, mult: int = 4, bias: bool = True):
        super().__init__()
        self.net = [GELUApprox(dim, dim * mult, bias), nn.Identity(), nn.Linear(dim * mult, dim_out, bias=bias)]

    def __call__(self, x: mx.array) -> mx.array:
        for layer in self.net:
            x = layer(x)
        return x


class PixArtAlphaTextProjection(nn.Module):
    """LTX-2's caption projection inside the transformer: Linear → GELU(tanh) → Linear."""

    def __init__(self, in_features: int, hidden_size: int, out_features: int | None = None):
        super().__init__()
        self.linear_1 = nn.Linear(in_features, hidden_size)
        self.linear_2 = nn.Linear(hidden_size, out_features or hidden_size)

    def __call__(self, caption: mx.array) -> mx.array:
        return self.linear_2(nn.gelu_approx(self.linear_1(caption)))
