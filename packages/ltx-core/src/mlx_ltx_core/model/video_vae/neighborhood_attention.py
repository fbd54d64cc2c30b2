"""3D neighborhood attention (ports ltx_core/model/video_vae/transformer/fallback_na/eager.py, NATTEN na3d semantics).

Per axis of length L with kernel K (odd, non-causal): ``K' = min(K, L)``, query i attends keys
``[start, start + K')`` with ``start = clamp(i - K'//2, 0, L - K')`` — windows shift inward at the borders, never
truncate. The 3D window is the product of the axis windows. Q arrives pre-scaled (scale 1).

Three implementations share these semantics and are tested against the same goldens:
* ``na3d_reference`` — an explicit gather of every window (the definition; memory ∝ N·K³, tiny inputs only);
* ``na3d_blocked`` — queries in blocks of (bt, bh, bw); each block attends densely to the union of its windows under
  a boolean mask (one batched ``mx.fast.scaled_dot_product_attention``); works on every device;
* ``na3d_metal`` (``na_metal.py``) — a Metal kernel, used by ``na3d`` only when a Metal GPU is the default device.
Tensors are ``(B, T, H, W, heads, head_dim)``; the output has v's dtype.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import mlx.core as mx
import numpy as np

# Query-block search range and the bound on one batched call's score matrix (elements), which chunks the blocks.
_MAX_BLOCK = 16
SCORE_BUDGET = 2**27


def window_starts(length: int, kernel: int) -> np.ndarray:
    """Start of each query's window along one axis (int32, shape (length,))."""
    k = min(kernel, length)
    return np.clip(np.arange(length) - k // 2, 0, length - k).astype(np.int32)


def _check(q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int]) -> tuple[int, int, int]:
    if q.ndim != 6 or q.shape != k.shape or q.shape != v.shape:
        raise ValueError(
            f"q, k, v must share one (B, T, H, W, heads, head_dim) shape; got {q.shape}, {k.shape}, {v.shape}"
        )
    if len(kernel_size) != 3 or any(kk < 1 or kk % 2 == 0 for kk in kernel_size):
        raise ValueError(f"kernel_size={tuple(kernel_size)} must be three odd sizes >= 1")
    kt, kh, kw = kernel_size
    return kt, kh, kw


def na3d_reference(q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int]) -> mx.array:
    """Neighborhood attention by gathering every query's window: (B, T, H, W, NH, HD) -> same shape, v's dtype."""
    kernels = _check(q, k, v, kernel_size)
    _, *dims, nh, hd = q.shape
    # idx[a]: (L_a, K'_a) key indices of each query's window along axis a.
    idx = [window_starts(n, kk)[:, None] + np.arange(min(kk, n))[None, :] for n, kk in zip(dims, kernels, strict=True)]

    def windows(x: mx.array) -> mx.array:  # -> (B, T, H, W, Kt·Kh·Kw, NH, HD)
        x = x[:, mx.array(idx[0])]  # (B, T, Kt, H, W, NH, HD)
        x = x[:, :, :, mx.array(idx[1])]  # (B, T, Kt, H, Kh, W, NH, HD)
        x = x[:, :, :, :, :, mx.array(idx[2])]  # (B, T, Kt, H, Kh, W, Kw, NH, HD)
        x = x.transpose(0, 1, 3, 5, 2, 4, 6, 7, 8)
        return x.reshape(*x.shape[:4], -1, nh, hd)

    kw, vw = windows(k.astype(mx.float32)), windows(v.astype(mx.float32))
    scores = (q.astype(mx.float32)[:, :, :, :, None] * kw).sum(-1)  # (B, T, H, W, K, NH)
    probs = mx.softmax(scores, axis=4, precise=True)
    return (probs[..., None] * vw).sum(4).astype(v.dtype)


def _block_axis(length: int, kernel: int, block: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Blocks along one axis: (n_blocks, region length R, region starts (n,), mask (n, block, R))."""
    k = min(kernel, length)
    n = -(-length // block)
    region = min(block + k - 1, length)
    starts = window_starts(length, kernel)
    first = np.arange(n) * block
    rstart = np.minimum(starts[first], length - region)
    # Padded queries (past the axis end) reuse the last query's window; their outputs are cropped.
    qi = np.minimum(first[:, None] + np.arange(block)[None, :], length - 1)
    rel = starts[qi] - rstart[:, None]  # (n, block) window start inside the region
    kj = np.arange(region)
    mask = (kj[None, None, :] >= rel[..., None]) & (kj[None, None, :] < rel[..., None] + k)
    return n, region, rstart.astype(np.int32), mask


def choose_blocks(dims: Sequence[int], kernel_size: Sequence[int], head_dim: int) -> tuple[int, int, int]:
    """Query-block sizes minimising score work plus key/value gather traffic per query (a cost model, not a tune)."""
    return _choose_blocks(tuple(dims), tuple(kernel_size), head_dim)


@functools.cache
def _choose_blocks(dims: tuple[int, ...], kernel_size: tuple[int, ...], head_dim: int) -> tuple[int, int, int]:
    best: tuple[float, tuple[int, int, int]] = (math.inf, (1, 1, 1))
    ranges = [range(1, min(n, _MAX_BLOCK) + 1) for n in dims]
    for bt in ranges[0]:
        for bh in ranges[1]:
            for bw in ranges[2]:
                blocks = (bt, bh, bw)
                padded = math.prod(-(-n // bb) * bb for n, bb in zip(dims, blocks, strict=True))
                region = math.prod(
                    min(bb + min(kk, n) - 1, n) for bb, kk, n in zip(blocks, kernel_size, dims, strict=True)
                )
                cost = padded * region * (1 + 2 * head_dim / math.prod(blocks))
                if cost < best[0]:
                    best = (cost, blocks)
    return best[1]


def na3d_blocked(
    q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int], blocks: Sequence[int] | None = None
) -> mx.array:
    """Blocked-dense masked neighborhood attention, exact for every block size: same shapes as ``na3d_reference``."""
    kernels = _check(q, k, v, kernel_size)
    b, t, h, w, nh, hd = q.shape
    dims = (t, h, w)
    blocks = tuple(blocks) if blocks is not None else choose_blocks(dims, kernels, hd)
    axes = [_block_axis(n, kk, bb) for n, kk, bb in zip(dims, kernels, blocks, strict=True)]
    (nt, rt, st, mt), (nh_, rh, sh, mh), (nw, rw, sw, mw) = axes
    bt, bh, bw = blocks

    # Queries: pad each axis to whole blocks, then (B·nT·nH·nW, NH, bt·bh·bw, HD).
    pad = [(0, 0)] + [(0, n * bb - d) for n, bb, d in zip((nt, nh_, nw), blocks, dims, strict=True)] + [(0, 0)] * 2
    qp = mx.pad(q, pad, mode="edge") if any(p[1] for p in pad) else q
    qp = qp.reshape(b, nt, bt, nh_, bh, nw, bw, nh, hd).transpose(0, 1, 3, 5, 7, 2, 4, 6, 8)
    qp = qp.reshape(b, nt, nh_, nw, nh, bt * bh * bw, hd)

    # Keys / values: each block's region, gathered per axis -> (B, nT, nH, nW, NH, Rt·Rh·Rw, HD).
    it = mx.array(st[:, None] + np.arange(rt)[None, :])
    ih = mx.array(sh[:, None] + np.arange(rh)[None, :])
    iw = mx.array(sw[:, None] + np.arange(rw)[None, :])

    def regions(x: mx.array, t0: int, t1: int) -> mx.array:
        x = x[:, it[t0:t1]]  # (B, n, Rt, H, W, NH, HD)
        x = x[:, :, :, ih]  # (B, n, Rt, nH, Rh, W, NH, HD)
        x = x[:, :, :, :, :, iw]  # (B, n, Rt, nH, Rh, nW, Rw, NH, HD)
        x = x.transpose(0, 1, 3, 5, 7, 2, 4, 6, 8)
        return x.reshape(b, t1 - t0, nh_, nw, nh, rt * rh * rw, hd)

    # Mask (nT, nH, nW, 1, Nq, Nk): the product of the axis masks.
    mask = (
        mx.array(mt)[:, None, None, :, None, None, :, None, None]
        & mx.array(mh)[None, :, None, None, :, None, None, :, None]
        & mx.array(mw)[None, None, :, None, None, :, None, None, :]
    ).reshape(nt, nh_, nw, 1, bt * bh * bw, rt * rh * rw)

    per_t = max(1, b * nh_ * nw * nh * bt * bh * bw * rt * rh * rw)
    step = max(1, SCORE_BUDGET // per_t)
    outs = []
    for t0 in range(0, nt, step):
        t1 = min(nt, t0 + step)
        n = t1 - t0
        kr, vr = regions(k, t0, t1), regions(v, t0, t1)
        qq = qp[:, t0:t1].reshape(-1, nh, bt * bh * bw, hd)
        mm = mx.broadcast_to(mask[t0:t1][None], (b, n, nh_, nw, 1, *mask.shape[-2:])).reshape(-1, 1, *mask.shape[-2:])
        o = mx.fast.scaled_dot_product_attention(
            qq.astype(v.dtype), kr.reshape(qq.shape[0], nh, -1, hd).astype(v.dtype),
            vr.reshape(qq.shape[0], nh, -1, hd), scale=1.0, mask=mm,
        )  # fmt: skip
        outs.append(o.reshape(b, n, nh_, nw, nh, bt, bh, bw, hd))
    out = mx.concatenate(outs, axis=1) if len(outs) > 1 else outs[0]
    out = out.transpose(0, 1, 5, 2, 6, 3, 7, 4, 8).reshape(b, nt * bt, nh_ * bh, nw * bw, nh, hd)
    return out[:, :t, :h, :w]


def na3d(q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int]) -> mx.array:
    """Neighborhood attention on the fastest path for the default device (Metal kernel on a GPU, else blocked)."""
    from mlx_ltx_core.model.video_vae import na_metal

    if na_metal.usable(q):
        return na_metal.na3d_metal(q, k, v, kernel_size)
    return na3d_blocked(q, k, v, kernel_size)
