"""Rotary position embeddings over fractional (time, y, x) positions (ports ltx_core/model/transformer/rope.py).

The angles reach θ·π/2 ≈ 1.6e4 rad, where float32 rounds them by ~1e-3 rad: that alone puts a float32 forward
~1e-4·max|out| from float64 (the reference's own float32 run included). They are formed in float64 on the CPU
stream and reduced to [−π, π] there (``reduced_angles``; once per positions: the pipelines cache the tables), so
the float32 cos/sin are exact to float32 rounding; cos/sin are cast to the model dtype last.
"""

from __future__ import annotations

import math
from enum import Enum

import mlx.core as mx
import numpy as np


class LTXRopeType(Enum):
    INTERLEAVED = "interleaved"
    SPLIT = "split"


def generate_freq_grid(theta: float, n_pos_dims: int, inner_dim: int, double_precision: bool) -> mx.array:
    """(F,) float32 angular frequencies θ^(j/(F−1))·π/2, F = inner_dim // (2·n_pos_dims).

    ``double_precision`` (``frequencies_precision: "float64"``) builds the grid in float64 before the cast, as
    the reference's numpy path does; otherwise the reference's float32 torch arithmetic is mirrored.
    """
    n = inner_dim // (2 * n_pos_dims)
    if double_precision:
        grid = np.power(theta, np.linspace(0.0, 1.0, n, dtype=np.float64)) * math.pi / 2
        return mx.array(grid.astype(np.float32))
    # torch.linspace(0, 1, n) in float32: the first half counts up from 0, the second half down from 1.
    idx = np.arange(n, dtype=np.float32)
    step = np.float32(1.0) / np.float32(max(n - 1, 1))
    lin = np.where(idx < n // 2, idx * step, np.float32(1.0) - step * (np.float32(n - 1) - idx)).astype(np.float32)
    grid = np.power(np.float32(theta), lin).astype(np.float32)
    grid = (grid * np.float32(math.pi)).astype(np.float32) / np.float32(2)
    return mx.array(grid.astype(np.float32))


def precompute_freqs_cis(
    positions: mx.array,
    dim: int,
    out_dtype: mx.Dtype,
    theta: float,
    max_pos: list[int],
    num_attention_heads: int,
    rope_type: LTXRopeType,
    double_precision: bool,
    use_middle_indices_grid: bool = True,
) -> tuple[mx.array, mx.array]:
    """cos/sin tables for ``positions`` (B, n_dims, T, 2) holding [start, end) bounds per token.

    Returns SPLIT: (B, H, T, dim/(2H)) each; INTERLEAVED: (B, T, dim) each.
    """
    n_dims = positions.shape[1]
    if len(max_pos) != n_dims:
        raise ValueError(f"positions have {n_dims} dims but max_pos has {len(max_pos)} entries")
    grid = generate_freq_grid(theta, n_dims, dim, double_precision)  # float32 values, as the reference's
    with mx.stream(mx.cpu):  # float64 exists on the CPU only
        angles = _angles(positions.astype(mx.float64), grid.astype(mx.float64), max_pos, use_middle_indices_grid)
        angles = reduced_angles(angles)
    cos, sin = mx.cos(angles), mx.sin(angles)
    b, t = cos.shape[:2]
    if rope_type == LTXRopeType.SPLIT:
        pad = dim // 2 - cos.shape[-1]
        cos = mx.concatenate([mx.ones((b, t, pad), cos.dtype), cos], axis=-1)
        sin = mx.concatenate([mx.zeros((b, t, pad), sin.dtype), sin], axis=-1)
        cos = cos.reshape(b, t, num_attention_heads, -1).swapaxes(1, 2)
        sin = sin.reshape(b, t, num_attention_heads, -1).swapaxes(1, 2)
    else:
        cos, sin = mx.repeat(cos, 2, axis=-1), mx.repeat(sin, 2, axis=-1)
        pad = dim % (2 * n_dims)
        cos = mx.concatenate([mx.ones((b, t, pad), cos.dtype), cos], axis=-1)
        sin = mx.concatenate([mx.zeros((b, t, pad), sin.dtype), sin], axis=-1)
    return cos.astype(out_dtype), sin.astype(out_dtype)


def reduced_angles(angles: mx.array) -> mx.array:
    """float64 angles → the same angles mod 2π in [−π, π], float32. MLX's float64 cos/sin are only float32-accurate,
    but its float64 arithmetic is exact, so the reduction is done here and the cos/sin in float32 after it."""
    return (angles - mx.round(angles / (2 * math.pi)) * (2 * math.pi)).astype(mx.float32)


def _angles(positions: mx.array, grid: mx.array, max_pos: list[int], use_middle_indices_grid: bool) -> mx.array:
    """(B, T, n_dims·F) angles grid·(2·pos/max_pos − 1), index j·n_dims + d, in the dtype of the inputs."""
    if use_middle_indices_grid:
        positions = (positions[..., 0] + positions[..., 1]) / 2.0
    elif positions.ndim == 4:
        positions = positions[..., 0]
    frac = mx.stack([positions[:, d] / max_pos[d] for d in range(positions.shape[1])], axis=-1)  # (B, T, n_dims)
    freqs = grid * (frac[..., None] * 2 - 1)  # (B, T, n_dims, F)
    return freqs.swapaxes(-1, -2).reshape(*freqs.shape[:2], -1)


def apply_split_rotary_emb(x: mx.array, cos: mx.array, sin: mx.array) -> mx.array:
    """x (B, H, T, D); cos/sin (B, H, T, D/2): rotate the first half of each head against the second."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return mx.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def apply_interleaved_rotary_emb(x: mx.array, cos: mx.array, sin: mx.array) -> mx.array:
    """x (B, T, inner); cos/sin (B, T, inner): rotate adjacent pairs (x₂ᵢ, x₂ᵢ₊₁)."""
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    rotated = mx.stack([-pairs[..., 1], pairs[..., 0]], axis=-1).reshape(x.shape)
    return x * cos + rotated * sin
