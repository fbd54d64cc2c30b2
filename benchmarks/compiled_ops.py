"""The transformer block's elementwise chains, plain and fused by ``mx.compile``, at the real video width.

Each chain runs once per block and stream (48 blocks × up to 4 per step): AdaLN modulation after the RMS norm,
the gated residual, split RoPE on q and k, and LTX-2.3's per-head attention gate. Prints seconds per call plain
and compiled, their ratio, and the largest difference between the two (fusion may reorder float rounding).

    python benchmarks/compiled_ops.py [--tokens 1920] [--batch 3] [--dtype float32] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import time

import mlx.core as mx

from mlx_ltx_core.model.transformer import ops


def chains(batch: int, tokens: int, dtype: mx.Dtype) -> dict[str, tuple]:
    """name → (plain function, compiled function, inputs) at LTX-2.3's video geometry (32 heads × 128)."""
    d, heads, d_head = 4096, 32, 128
    key = iter(mx.random.split(mx.random.key(0), 8))

    def rnd(*shape):
        return mx.random.normal(shape, key=next(key)).astype(dtype)

    x = rnd(batch, tokens, d)
    scale, shift, gate = rnd(batch, tokens, d), rnd(batch, tokens, d), rnd(batch, tokens, d)
    q = rnd(batch, heads, tokens, d_head)
    cos, sin = rnd(1, heads, tokens, d_head // 2), rnd(1, heads, tokens, d_head // 2)
    logits = rnd(batch, tokens, heads)
    return {
        "modulate": (ops.modulate_plain, ops.modulate, (x, scale, shift, 1e-6)),
        "scale_shift": (ops.scale_shift_plain, ops.scale_shift, (x, scale, shift)),
        "gated_residual": (ops.gated_residual_plain, ops.gated_residual, (x, x, gate)),
        "split_rope": (ops.split_rope_plain, ops.split_rope, (q, cos, sin)),
        "head_gate": (ops.head_gate_plain, ops.head_gate, (x, logits, heads)),
    }


def timed(fn, args: tuple, repeat: int) -> float:
    mx.eval(fn(*args))  # builds (compiles) once
    start = time.perf_counter()
    for _ in range(repeat):
        mx.eval(fn(*args))
    return (time.perf_counter() - start) / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=1920)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    dtype = getattr(mx, args.dtype)
    rows = []
    print(f"{args.batch} × {args.tokens} tokens, width 4096, {args.dtype}; ms per call")
    print(f"{'chain':>15} {'plain':>8} {'compiled':>9} {'ratio':>6} {'max |diff|':>11}")
    for name, (plain, compiled, inputs) in chains(args.batch, args.tokens, dtype).items():
        t_plain, t_comp = timed(plain, inputs, args.repeat), timed(compiled, inputs, args.repeat)
        diff = mx.abs(plain(*inputs).astype(mx.float32) - compiled(*inputs).astype(mx.float32)).max().item()
        rows.append({"chain": name, "plain_ms": t_plain * 1e3, "compiled_ms": t_comp * 1e3, "max_diff": diff})
        print(f"{name:>15} {t_plain * 1e3:>8.2f} {t_comp * 1e3:>9.2f} {t_plain / t_comp:>6.2f} {diff:>11.2e}")
    print(json.dumps({"benchmark": "compiled_ops", "dtype": args.dtype, "batch": args.batch, "tokens": args.tokens,
                      "rows": rows}))  # fmt: skip


if __name__ == "__main__":
    main()
