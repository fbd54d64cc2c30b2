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
SCORE_BUDGET = 2**25


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
    q: mx.array,
    k: mx.array,
    v: mx.array,
    kernel_size: Sequence[int],
    blocks: Sequence[int] | None = None,
    score_budget: int = SCORE_BUDGET,
) -> mx.array:
    """Blocked-dense masked neighborhood attention, exact for every block size and chunking: same shapes as
    ``na3d_reference``. One batched attention call holds at most ``score_budget`` score elements."""
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

    # Keys / values: each block's region, gathered per axis -> (B, n_t, n_h, n_w, NH, Rt·Rh·Rw, HD).
    it = mx.array(st[:, None] + np.arange(rt)[None, :])
    ih = mx.array(sh[:, None] + np.arange(rh)[None, :])
    iw = mx.array(sw[:, None] + np.arange(rw)[None, :])

    def regions(x: mx.array, ts: slice, hs: slice, ws: slice) -> mx.array:
        x = x[:, it[ts]]  # (B, n_t, Rt, H, W, NH, HD)
        x = x[:, :, :, ih[hs]]  # (B, n_t, Rt, n_h, Rh, W, NH, HD)
        x = x[:, :, :, :, :, iw[ws]]  # (B, n_t, Rt, n_h, Rh, n_w, Rw, NH, HD)
        x = x.transpose(0, 1, 3, 5, 7, 2, 4, 6, 8)
        return x.reshape(*x.shape[:5], rt * rh * rw, hd)

    # A chunk's mask (n_t, n_h, n_w, 1, Nq, Nk): the product of the axis masks (built per chunk: the whole grid's
    # mask is as many bytes as its scores are elements).
    axis_masks = [mx.array(m) for m in (mt, mh, mw)]

    def chunk_mask(ts: slice, hs: slice, ws: slice) -> mx.array:
        mt_, mh_, mw_ = axis_masks[0][ts], axis_masks[1][hs], axis_masks[2][ws]
        joint = (
            mt_[:, None, None, :, None, None, :, None, None]
            & mh_[None, :, None, None, :, None, None, :, None]
            & mw_[None, None, :, None, None, :, None, None, :]
        )
        return joint.reshape(*joint.shape[:3], 1, bt * bh * bw, rt * rh * rw)

    def attend(ts: slice, hs: slice, ws: slice) -> mx.array:
        kr, vr = regions(k, ts, hs, ws), regions(v, ts, hs, ws)
        grid = kr.shape[1:4]
        qq = qp[:, ts, hs, ws].reshape(-1, nh, bt * bh * bw, hd)
        mask = chunk_mask(ts, hs, ws)
        mm = mx.broadcast_to(mask[None], (b, *mask.shape)).reshape(-1, 1, *mask.shape[-2:])
        o = mx.fast.scaled_dot_product_attention(
            qq.astype(v.dtype), kr.reshape(qq.shape[0], nh, -1, hd).astype(v.dtype),
            vr.reshape(qq.shape[0], nh, -1, hd), scale=1.0, mask=mm,
        )  # fmt: skip
        return o.reshape(b, *grid, nh, bt, bh, bw, hd)

    # One call's score matrix stays under SCORE_BUDGET: chunk the block grid along W, then H, then T.
    ct, ch, cw = score_chunks((nt, nh_, nw), b * nh * bt * bh * bw * rt * rh * rw, score_budget)
    chunked = (ct, ch, cw) != (nt, nh_, nw)
    rows = []
    for t0 in range(0, nt, ct):
        cols = []
        for h0 in range(0, nh_, ch):
            ts, hs = slice(t0, t0 + ct), slice(h0, h0 + ch)
            parts = [attend(ts, hs, slice(w0, w0 + cw)) for w0 in range(0, nw, cw)]
            if chunked:  # evaluated per chunk: a lazy graph would keep every chunk's scores alive together
                mx.eval(parts)
            cols.append(mx.concatenate(parts, axis=3) if len(parts) > 1 else parts[0])
        rows.append(mx.concatenate(cols, axis=2) if len(cols) > 1 else cols[0])
    out = mx.concatenate(rows, axis=1) if len(rows) > 1 else rows[0]
    out = out.transpose(0, 1, 5, 2, 6, 3, 7, 4, 8).reshape(b, nt * bt, nh_ * bh, nw * bw, nh, hd)
    return out[:, :t, :h, :w]


def score_chunks(grid: Sequence[int], per_block: int, budget: int = SCORE_BUDGET) -> tuple[int, int, int]:
    """Blocks per call along (T, H, W) so that one call's scores (``per_block`` elements per query block) stay under
    ``budget``: whole W rows first, then whole H planes, then T (at least one block)."""
    nt, nh, nw = grid
    fit = max(1, budget // max(1, per_block))
    if fit < nw:
        return 1, 1, fit
    if fit < nh * nw:
        return 1, fit // nw, nw
    return min(nt, fit // (nh * nw)), nh, nw


def na3d_blocked_peak_bytes(
    shape: Sequence[int], kernel_size: Sequence[int], itemsize: int = 4, score_budget: int = SCORE_BUDGET
) -> int:
    """Working set (bytes, q/k/v excluded) of one ``na3d_blocked`` call on (B, T, H, W, heads, head_dim), from its own
    block and chunk choice: per batched call the float32 scores, the gathered key/value regions (first gather along
    T, final regions and their transposed copies), the broadcast mask; per call site the padded queries, the output
    chunks and their concatenation. On MLX's CPU backend within ~15% of the measured peak."""
    b, t, h, w, heads, head_dim = shape
    dims = (t, h, w)
    blocks = choose_blocks(dims, kernel_size, head_dim)
    grid = [-(-n // bb) for n, bb in zip(dims, blocks, strict=True)]
    regions = [min(bb + min(kk, n) - 1, n) for bb, kk, n in zip(blocks, kernel_size, dims, strict=True)]
    nq, nk = math.prod(blocks), math.prod(regions)
    per_block = b * heads * nq * nk
    per_call = math.prod(score_chunks(grid, per_block, score_budget))
    scores = per_call * per_block * 4
    keys_values = 2 * 2 * per_call * b * heads * nk * head_dim * itemsize
    ct, ch, _ = score_chunks(grid, per_block, score_budget)
    first_gather = 2 * b * ct * regions[0] * (h if ch == grid[1] else ch * regions[1]) * w * heads * head_dim * itemsize
    mask = per_call * b * nq * nk
    padded = b * math.prod(g * bb for g, bb in zip(grid, blocks, strict=True)) * heads * head_dim * itemsize
    return scores + keys_values + first_gather + mask + 3 * padded


def na3d(q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int]) -> mx.array:
    """Neighborhood attention on the fastest path for the default device (Metal kernel on a GPU, else blocked)."""
    from mlx_ltx_core.model.video_vae import na_metal

    if na_metal.usable(q):
        return na_metal.na3d_metal(q, k, v, kernel_size)
    return na3d_blocked(q, k, v, kernel_size)
