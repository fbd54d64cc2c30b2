"""Transformer forward: time, peak memory and achieved FLOP/s of one denoising step's model call.

Defaults: the real LTX-2.3 head geometry (32 × 128 video, 32 × 64 audio), 2 of the 48 layers, 1920 video tokens
(a 512×768 frame grid of 16×24 × 5 latent frames) with the matching 126 audio tokens, 1024 text tokens.
Random weights; absolute CPU times say nothing about a Mac: compare ratios between runs and options.

``--timesteps``: the AdaLN path(s) to time in this one run: ``per-token`` (every token's timestep through the
timestep MLP and AdaLN projection, as before) and/or ``distinct`` (each distinct value once, gathered back).
The forward is timed at two depths L1 < L2 (``--depths``, the model has L2 layers): per block =
(t(L2) − t(L1)) / (L2 − L1), fixed (everything outside the blocks) = t(L1) − L1 · per block; medians of
``--repeat`` runs interleaved round-robin. L1 >= 1: with no block, MLX never computes the block AdaLN
projection (lazy), so depth 0 would book it as block cost. The inputs are the pipelines' T2V timesteps.

    python benchmarks/transformer_forward.py [--depths 1 2] [--timesteps per-token distinct] [--dtype float32]
        [--video-tokens 1920] [--audio-tokens 34] [--repeat 3] [--no-compile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import mlx.core as mx
from mlx.utils import tree_flatten

from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, Modality
from mlx_ltx_core.model.transformer.adaln import distinct_rows
from mlx_ltx_core.model.transformer.args import REQUIRED_AV_CONFIG, REQUIRED_CONFIG

REQUIRED = {**REQUIRED_CONFIG, **REQUIRED_AV_CONFIG}  # the values every real checkpoint carries


def config(args: argparse.Namespace) -> dict:
    ltx23 = args.version == "2.3"
    return {
        **REQUIRED,
        "num_layers": args.layers,
        "num_attention_heads": args.heads,
        "attention_head_dim": args.head_dim,
        "cross_attention_dim": args.heads * args.head_dim,
        "caption_channels": 3840,
        "audio_num_attention_heads": args.heads,
        "audio_attention_head_dim": args.audio_head_dim,
        "audio_cross_attention_dim": args.heads * args.audio_head_dim,
        "av_ca_timestep_scale_multiplier": 1000.0,
        "rope_type": "split",
        "frequencies_precision": "float64",
        "caption_proj_before_connector": ltx23,
        "apply_gated_attention": ltx23,
        "cross_attention_adaln": ltx23,
    }


def inputs(model: LTXModel, args: argparse.Namespace, dtype: mx.Dtype) -> tuple[Modality, Modality]:
    a = model.args
    ctx_v = a.inner_dim if a.caption_proj_before_connector else a.caption_channels
    ctx_a = a.audio_inner_dim if a.caption_proj_before_connector else a.caption_channels

    def modality(tokens: int, channels: int, ctx_dim: int, n_dims: int) -> Modality:
        start = mx.broadcast_to(mx.arange(tokens, dtype=mx.float32)[None, None, :, None], (1, n_dims, tokens, 1))
        return Modality(
            latent=mx.random.normal((1, tokens, channels)).astype(dtype),
            sigma=mx.array([0.7], dtype),
            timesteps=mx.full((1, tokens, 1), 0.7, dtype),
            positions=mx.concatenate([start, start + 1], axis=-1),
            context=mx.random.normal((1, args.text_tokens, ctx_dim)).astype(dtype),
        )

    video = modality(args.video_tokens, a.in_channels, ctx_v, 3)
    return video, modality(args.audio_tokens, a.audio_in_channels, ctx_a, 1)


def flops(args: argparse.Namespace) -> float:
    """Matmul FLOPs of one forward (2·m·n·k per product): projections, attention scores/values, feed-forward."""
    d, da = args.heads * args.head_dim, args.heads * args.audio_head_dim
    tv, ta, tt = args.video_tokens, args.audio_tokens, args.text_tokens

    def attn(tq: int, tk: int, dq: int, dk: int, inner: int) -> float:
        return 2 * (tq * dq * inner * 2 + tk * dk * inner * 2 + 2 * tq * tk * inner)

    per_block = (
        attn(tv, tv, d, d, d)
        + attn(tv, tt, d, d, d)
        + attn(ta, ta, da, da, da)
        + attn(ta, tt, da, da, da)
        + attn(tv, ta, d, da, da)
        + attn(ta, tv, da, d, da)
        + 2 * 2 * (tv * d * 4 * d + ta * da * 4 * da)
    )
    return per_block * args.layers


def add_geometry_arguments(ap: argparse.ArgumentParser, layers: int) -> None:
    """Model version and geometry options (defaults: real head geometry, 1920 video / 1024 text tokens)."""
    ap.add_argument("--version", choices=["2", "2.3"], default="2.3")
    ap.add_argument("--layers", type=int, default=layers)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--audio-head-dim", type=int, default=64)
    ap.add_argument("--video-tokens", type=int, default=1920)
    ap.add_argument("--audio-tokens", type=int, default=126)
    ap.add_argument("--text-tokens", type=int, default=1024)


def timed(model: LTXModel, video: Modality, audio: Modality, runs: list[tuple[str, int]], repeat: int) -> dict:
    """Median seconds per (timesteps mode, depth), the runs interleaved round-robin so load drift hits all alike."""
    blocks, times = model.transformer_blocks, {run: [] for run in runs}
    try:
        for _ in range(repeat):
            for mode, depth in runs:
                model.distinct_timesteps, model.transformer_blocks = mode == "distinct", blocks[:depth]
                start = time.perf_counter()
                mx.eval(model(video, audio))
                times[(mode, depth)].append(time.perf_counter() - start)
    finally:
        model.transformer_blocks = blocks
    return {run: statistics.median(t) for run, t in times.items()}


def dedup_seconds(video: Modality, repeat: int = 20) -> float:
    """The host round trip ``distinct_rows`` adds per call (evaluates the timesteps, np.unique)."""
    flat = video.timesteps.reshape(-1)
    start = time.perf_counter()
    for _ in range(repeat):
        mx.eval(distinct_rows(flat * 1000.0))
    return (time.perf_counter() - start) / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_geometry_arguments(ap, layers=2)
    ap.add_argument("--depths", type=int, nargs=2, metavar=("L1", "L2"), help="default: 1 and --layers")
    ap.add_argument("--timesteps", nargs="+", choices=["per-token", "distinct"], default=["per-token", "distinct"])
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-compile", action="store_true", help="run the fused elementwise chains uncompiled")
    args = ap.parse_args()
    l1, l2 = args.depths or (1, args.layers)
    if not 1 <= l1 < l2:
        ap.error("--depths needs 1 <= L1 < L2")
    args.layers = l2
    if args.no_compile:
        mx.disable_compile()
    dtype = getattr(mx, args.dtype)
    model = LTXModel(LTXModelArgs.from_dict(config(args)))
    model.set_dtype(dtype)
    mx.eval(model.parameters())
    n_params = sum(p.size for _, p in tree_flatten(model.parameters()))
    video, audio = inputs(model, args, dtype)
    mx.eval(video, audio)
    common = {
        "benchmark": "transformer_forward",
        "version": args.version,
        "dtype": args.dtype,
        "compiled": not args.no_compile,
        "video_tokens": args.video_tokens,
        "audio_tokens": args.audio_tokens,
        "text_tokens": args.text_tokens,
        "params": n_params,
        "repeat": args.repeat,
        "dedup_round_trip_ms": round(dedup_seconds(video) * 1e3, 3),
    }
    for mode in args.timesteps:  # warm-up: compiled kernels, allocator
        model.distinct_timesteps = mode == "distinct"
        mx.eval(model(video, audio))
    mx.reset_peak_memory()
    medians = timed(model, video, audio, [(m, d) for m in args.timesteps for d in (l1, l2)], args.repeat)
    results = {}
    for mode in args.timesteps:
        t1, t2 = medians[(mode, l1)], medians[(mode, l2)]
        per_block = (t2 - t1) / (l2 - l1)
        results[mode] = {
            f"seconds_L{l1}": round(t1, 4),
            f"seconds_L{l2}": round(t2, 4),
            "seconds_per_block": round(per_block, 4),
            "seconds_fixed": round(t1 - l1 * per_block, 4),
            f"gflops_per_s_L{l2}": round(flops(args) / t2 / 1e9, 1),
        }
    common["peak_memory_mb"] = round(mx.get_peak_memory() / 2**20, 1)
    metrics = list(next(iter(results.values())))
    print(f"{'metric':<22}" + "".join(f"{m:>12}" for m in results))
    for key in metrics:
        print(f"{key:<22}" + "".join(f"{r[key]:>12}" for r in results.values()))
    if len(results) == 2:
        before, after = results["per-token"], results["distinct"]
        for key in ("seconds_fixed", f"seconds_L{l2}", "seconds_per_block"):
            print(f"ratio distinct/per-token {key}: {after[key] / before[key]:.3f}")
    print(json.dumps({**common, "depths": [l1, l2], "timesteps": results}))


if __name__ == "__main__":
    main()
