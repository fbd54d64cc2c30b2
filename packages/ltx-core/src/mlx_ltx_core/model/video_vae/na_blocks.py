"""Neighborhood-attention blocks of the 2.5 diffusion video decoder (ports ltx_core/model/video_vae/transformer/:
attention.py, rope_math.py, swiglu.py, blocks.py NABlock, chunked/attn.py's W-chunked residual).

Channels-last ``(B, T, H, W, C)`` throughout. Attribute names are the reference's (``attn.qkv.to_q``, ``mlp.w_gate``),
so the converted checkpoint loads strictly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_core.model.video_vae.neighborhood_attention import na3d

NAFunction = Callable[[mx.array, mx.array, mx.array, Sequence[int]], mx.array]


def default_rope_dim_split(head_dim: int) -> tuple[int, int, int]:
    """Head-dim split over (T, H, W) RoPE chunks: (16, 24, 24) for 64 (``rope_math.default_rope_dim_split``)."""
    if head_dim % 8 or head_dim < 16:
        raise ValueError(f"head_dim={head_dim} must be a multiple of 8 and >= 16 for the VAE's RoPE split")
    d_t = (head_dim // 4) // 2 * 2
    d_hw = (head_dim - d_t) // 2
    if d_hw % 2:
        d_t -= 2
        d_hw = (head_dim - d_t) // 2
    return d_t, d_hw, d_hw


def rope_inv_freqs(dim: int, base: float = 10000.0) -> mx.array:
    """``base^(-2j/dim)`` for j < dim/2, computed in float64 and stored float32 as the reference does."""
    return mx.array((1.0 / np.power(base, np.arange(0, dim, 2, dtype=np.float64) / dim)).astype(np.float32))


def rotate_axis(x: mx.array, positions: mx.array, inv: mx.array, axis: int) -> mx.array:
    """Absolute RoPE of interleaved pairs (x[2j], x[2j+1]) along ``axis`` of a (B, T, H, W, NH, d) chunk, in float32."""
    shape = [1] * 6
    shape[axis] = positions.shape[0]
    shape[-1] = inv.shape[0]
    angle = (positions[:, None] * inv[None, :]).reshape(shape)
    cos, sin = mx.cos(angle), mx.sin(angle)
    pairs = x.astype(mx.float32).reshape(*x.shape[:-1], -1, 2)
    even, odd = pairs[..., 0], pairs[..., 1]
    out = mx.stack([even * cos - odd * sin, even * sin + odd * cos], axis=-1)
    return out.reshape(x.shape).astype(x.dtype)


class QKVProjections(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)


class NeighborhoodAttention3D(nn.Module):
    """q/k/v projections, per-head RMS norms, q·1/√d, absolute per-axis RoPE, 3D NA, output projection."""

    def __init__(self, dim: int, kernel_size: Sequence[int], head_dim: int = 64) -> None:
        super().__init__()
        if dim % head_dim:
            raise ValueError(f"dim={dim} must be a multiple of head_dim={head_dim}")
        self.dim, self.head_dim, self.num_heads = dim, head_dim, dim // head_dim
        self.kernel_size = tuple(kernel_size)
        self.scale = head_dim**-0.5
        self.rope_dim_split = default_rope_dim_split(head_dim)
        self._inv = [rope_inv_freqs(d) for d in self.rope_dim_split]
        self.qkv = QKVProjections(dim)
        self.proj = nn.Linear(dim, dim)
        self.q_norm = nn.RMSNorm(head_dim, eps=1e-6)
        self.k_norm = nn.RMSNorm(head_dim, eps=1e-6)
        self.attention_function: NAFunction = na3d

    def rope(self, x: mx.array, w_positions: mx.array | None = None) -> mx.array:
        """RoPE on a (B, T, H, W, NH, HD) tensor: T and H positions 0.., W positions ``w_positions`` or 0.."""
        _, t, h, w, _, _ = x.shape
        d_t, d_h, _ = self.rope_dim_split
        pos = [mx.arange(t, dtype=mx.float32), mx.arange(h, dtype=mx.float32)]
        pos.append(mx.arange(w, dtype=mx.float32) if w_positions is None else w_positions)
        cuts = [x[..., :d_t], x[..., d_t : d_t + d_h], x[..., d_t + d_h :]]
        rotated = [rotate_axis(c, p, i, a) for c, p, i, a in zip(cuts, pos, self._inv, (1, 2, 3), strict=True)]
        return mx.concatenate(rotated, axis=-1)

    def __call__(self, x: mx.array, w_positions: mx.array | None = None) -> mx.array:
        """(B, T, H, W, C) normed input -> (B, T, H, W, C); refuses axes shorter than the kernel, as the reference."""
        b, t, h, w, _ = x.shape
        if t < self.kernel_size[0] or h < self.kernel_size[1] or w < self.kernel_size[2]:
            raise ValueError(f"neighborhood attention needs (T, H, W)=({t}, {h}, {w}) >= kernel {self.kernel_size}")
        shape = (b, t, h, w, self.num_heads, self.head_dim)
        q = self.q_norm(self.qkv.to_q(x).reshape(shape)) * self.scale
        k = self.k_norm(self.qkv.to_k(x).reshape(shape))
        v = self.qkv.to_v(x).reshape(shape)
        q, k = self.rope(q, w_positions), self.rope(k, w_positions)
        out = self.attention_function(q, k, v, self.kernel_size)
        return self.proj(out.reshape(b, t, h, w, self.dim))


class SwiGLU(nn.Module):
    """``w_down(silu(w_gate x) * w_up x)``, bias-free."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w_up = nn.Linear(dim, hidden_dim, bias=False)
        self.w_gate = nn.Linear(dim, hidden_dim, bias=False)
        self.w_down = nn.Linear(hidden_dim, dim, bias=False)

    def __call__(self, x: mx.array) -> mx.array:
        return self.w_down(nn.silu(self.w_gate(x)) * self.w_up(x))


def mlp_hidden(dim: int, mlp_ratio: float = 4.0) -> int:
    return (int(dim * mlp_ratio) + 15) // 16 * 16


class NABlock(nn.Module):
    """Deterministic-stage block: ``x + attn(norm1 x)``, then ``x + mlp(norm2 x)``."""

    def __init__(self, dim: int, kernel_size: Sequence[int], head_dim: int = 64) -> None:
        super().__init__()
        self.norm1 = nn.RMSNorm(dim, eps=1e-6)
        self.attn = NeighborhoodAttention3D(dim, kernel_size, head_dim)
        self.norm2 = nn.RMSNorm(dim, eps=1e-6)
        self.mlp = SwiGLU(dim, mlp_hidden(dim))

    def __call__(self, x: mx.array) -> mx.array:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def modulate(x: mx.array, scale: mx.array, shift: mx.array) -> mx.array:
    return x * (1.0 + scale) + shift


def w_chunked_attention_residual(
    x: mx.array, attn: NeighborhoodAttention3D, norm: nn.RMSNorm, scale: mx.array, shift: mx.array, w_chunks: int
) -> mx.array:
    """``x + attn(modulate(norm x))`` the ``chunked_eager`` way: W cut in ``w_chunks`` slabs of ceil(W/n), each run in
    a buffer with ``halo = K_w//2`` columns per side — true neighbours where they exist, copies of the edge column at
    the image borders and after a short last slab (so border queries see centred windows, not NATTEN's shifted ones),
    and zeros where a left neighbour slab is narrower than the halo, exactly as the reference fills its buffer. W RoPE
    positions run from ``core_start - halo``. Every buffer reads the block's input ``x``."""
    if w_chunks < 1:
        raise ValueError(f"w_chunks={w_chunks} must be >= 1")
    w = x.shape[3]
    halo = attn.kernel_size[2] // 2
    chunk_w = -(-w // w_chunks)
    extent = chunk_w + 2 * halo
    outs = []
    for i in range(w_chunks):
        start, end = i * chunk_w, min(w, (i + 1) * chunk_w)
        if end <= start:
            break
        take = min(halo, chunk_w)  # the left neighbour is never the short last slab
        left = x[:, :, :, start - take : start] if i > 0 else mx.repeat(x[:, :, :, :1], halo, axis=3)
        if i > 0 and take < halo:
            left = mx.concatenate([mx.zeros((*x.shape[:3], halo - take, x.shape[4]), x.dtype), left], axis=3)
        right = x[:, :, :, end : min(w, end + halo)] if i + 1 < w_chunks else x[:, :, :, end:end]
        missing = extent - (halo + (end - start) + right.shape[3])
        pieces = [left, x[:, :, :, start:end], right]
        if missing > 0:
            pieces.append(mx.repeat(x[:, :, :, end - 1 : end], missing, axis=3))
        buf = mx.concatenate(pieces, axis=3)
        w_pos = mx.arange(extent, dtype=mx.float32) + (start - halo)
        out = attn(modulate(norm(buf), scale, shift), w_positions=w_pos)
        outs.append(out[:, :, :, halo : halo + end - start])
    return x + mx.concatenate(outs, axis=3)
