"""Neighborhood attention as one ``mx.fast.metal_kernel`` (Apple GPUs; the semantics of ``neighborhood_attention``).

UNTESTED ON THE LINUX CI BOX: it has no Metal device, so ``na3d`` never dispatches here off macOS and the parity
test of this path (tests/test_neighborhood_attention.py, same goldens as the other paths) is skipped there.
One thread per (query, head): it walks the query's inward-shifted window with an online softmax in float32 and
writes float32 (cast to v's dtype after).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import mlx.core as mx

_SOURCE = """
    uint gid = thread_position_in_grid.x;
    if (gid >= NB * NT * NHH * NW * NH) return;
    int head = gid % NH; int r = gid / NH;
    int wi = r % NW; r /= NW;
    int hi = r % NHH; r /= NHH;
    int ti = r % NT; int bi = r / NT;
    int kt = min(KT, NT), kh = min(KH, NHH), kw = min(KW, NW);
    int st = clamp(ti - kt / 2, 0, NT - kt);
    int sh = clamp(hi - kh / 2, 0, NHH - kh);
    int sw = clamp(wi - kw / 2, 0, NW - kw);
    float qv[HD];
    float acc[HD];
    for (int d = 0; d < HD; ++d) { qv[d] = float(q[gid * HD + d]); acc[d] = 0.0f; }
    float m = -INFINITY, l = 0.0f;
    for (int a = st; a < st + kt; ++a) {
      for (int c = sh; c < sh + kh; ++c) {
        for (int e = sw; e < sw + kw; ++e) {
          int base = ((((bi * NT + a) * NHH + c) * NW + e) * NH + head) * HD;
          float s = 0.0f;
          for (int d = 0; d < HD; ++d) s += qv[d] * float(k[base + d]);
          float mn = max(m, s);
          float corr = metal::exp(m - mn);
          float p = metal::exp(s - mn);
          l = l * corr + p;
          for (int d = 0; d < HD; ++d) acc[d] = acc[d] * corr + p * float(v[base + d]);
          m = mn;
        }
      }
    }
    for (int d = 0; d < HD; ++d) out[gid * HD + d] = acc[d] / l;
"""


def usable(q: mx.array) -> bool:
    """True where the kernel can run: a Metal GPU is the default device."""
    return mx.metal.is_available() and mx.default_device().type == mx.gpu and q.shape[-1] <= 256


@cache
def _kernel() -> Any:
    return mx.fast.metal_kernel(name="ltx_na3d", input_names=["q", "k", "v"], output_names=["out"], source=_SOURCE)


def na3d_metal(q: mx.array, k: mx.array, v: mx.array, kernel_size: Sequence[int]) -> mx.array:
    """(B, T, H, W, NH, HD) neighborhood attention on the Metal GPU; output in v's dtype."""
    b, t, h, w, nh, hd = q.shape
    kt, kh, kw = kernel_size
    n = b * t * h * w * nh
    dims = {"NB": b, "NT": t, "NHH": h, "NW": w, "NH": nh, "HD": hd, "KT": kt, "KH": kh, "KW": kw}
    (out,) = _kernel()(
        inputs=[q, k, v],
        template=list(dims.items()),
        grid=(n, 1, 1),
        threadgroup=(min(256, n), 1, 1),
        output_shapes=[q.shape],
        output_dtypes=[mx.float32],
    )
    return out.astype(v.dtype)
