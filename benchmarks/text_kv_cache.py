"""Text cross-attention K/V once per prompt: a denoising step inside a stage with and without the K/V cache.

Inside ``stage_constants()`` each block's text K/V (``to_k``/``k_norm``/``to_v`` of the prompt context) are
computed at the first step and reused at every later step and res_2s sub-step, where the context does not
depend on the step: LTX-2, and LTX-2.3/2.5 checkpoints with ``use_prompt_adaln_single`` false (``--version 2.3
--no-prompt-adaln``). Prints the mean time of steps 2..N (the guided batch of ``--passes`` samples, ``--layers``
blocks), the matmul FLOPs the cache saves per step (exact count of the skipped projections) against the
forward's, and the cache's measured bytes, scaled to 48 layers. Real head geometry, random weights.

    python benchmarks/text_kv_cache.py [--version 2 | 2.3 --no-prompt-adaln] [--layers 2] [--passes 1] [--steps 3]
        [--dtype float32 | bfloat16]
"""

from __future__ import annotations

import argparse
import json
import time

import mlx.core as mx
from stage_constants import stacked, steps
from transformer_forward import add_geometry_arguments, config, flops, inputs

from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs


def step_seconds(model: LTXModel, stage: list, text_kv: bool) -> tuple[list[float], int]:
    """Seconds of each step of one stage, and the K/V cache's bytes at the end."""
    times = []
    with model.stage_constants(text_kv=text_kv) as cache:
        for video, audio in stage:
            start = time.perf_counter()
            mx.eval(model(video, audio))
            times.append(time.perf_counter() - start)
        return times, cache.nbytes("text_kv")


def saved_flops(args: argparse.Namespace) -> float:
    """Per step and sample: the K and V projections of the text context (2·L·D_ctx·D each) in every block."""
    d, da, tt = args.heads * args.head_dim, args.heads * args.audio_head_dim, args.text_tokens
    return args.layers * 2 * 2 * tt * (d * d + da * da)  # the context is at the stream's width (caption projection)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_geometry_arguments(ap, layers=2)
    ap.add_argument("--no-prompt-adaln", action="store_true", help="LTX-2.3 with use_prompt_adaln_single false")
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="stages per mode, interleaved")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = ap.parse_args()
    if args.version == "2" and args.no_prompt_adaln:
        ap.error("--no-prompt-adaln is an LTX-2.3 option (LTX-2 has no prompt AdaLN)")
    cfg = {**config(args), "use_prompt_adaln_single": not args.no_prompt_adaln}
    model = LTXModel(LTXModelArgs.from_dict(cfg))
    dtype = getattr(mx, args.dtype)
    model.set_dtype(dtype)
    mx.eval(model.parameters())
    video, audio = (stacked(m, args.passes) for m in inputs(model, args, dtype))
    mx.eval(video, audio)
    stage = steps(video, audio, args.steps)
    step_seconds(model, stage[:1], True)  # warm-up
    later = {False: [], True: []}
    kv_bytes = 0
    for _ in range(args.repeat):
        for text_kv in (False, True):
            times, nbytes = step_seconds(model, stage, text_kv)
            later[text_kv] += times[1:]
            kv_bytes = max(kv_bytes, nbytes)
    plain, cached = (sorted(later[k])[len(later[k]) // 2] for k in (False, True))
    saved, total = saved_flops(args) * args.passes, flops(args) * args.passes
    row = {
        "benchmark": "text_kv_cache",
        "version": args.version,
        "no_prompt_adaln": args.no_prompt_adaln,
        "dtype": args.dtype,
        "layers": args.layers,
        "passes": args.passes,
        "step_s_uncached": round(plain, 4),
        "step_s_cached": round(cached, 4),
        "ratio": round(cached / plain, 4),
        "saved_gflop_per_step": round(saved / 1e9, 1),
        "saved_share_of_matmul_flops": round(saved / total, 4),
        "kv_cache_mb": round(kv_bytes / 2**20, 1),
        "kv_cache_mb_48_layers": round(kv_bytes / args.layers * 48 / 2**20, 1),
    }
    print(f"LTX-{args.version}{' (no prompt AdaLN)' * args.no_prompt_adaln}, {args.dtype}, {args.passes} pass(es) × "
          f"({args.video_tokens} video + {args.audio_tokens} audio), {args.text_tokens} text tokens, {args.layers} "
          f"layers; median of steps 2..{args.steps}")  # fmt: skip
    print(f"step uncached {plain:.3f} s, cached {cached:.3f} s: ratio {cached / plain:.3f}")
    print(f"saved {saved / 1e9:.1f} GFLOP per step = {saved / total:.1%} of the forward's matmul FLOPs; "
          f"cache {kv_bytes / 2**20:.1f} MB ({row['kv_cache_mb_48_layers']:.0f} MB at 48 layers)")  # fmt: skip
    if kv_bytes == 0:
        print("no K/V cached: this model's context depends on the step (prompt AdaLN)")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
