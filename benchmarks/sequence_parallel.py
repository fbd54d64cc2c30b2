"""Sequence parallelism: one transformer forward on 1 rank and on N local ranks (mlx.launch, ring over loopback).

Reports seconds per forward on each, their ratio, the bytes each rank receives per forward (every all-gather:
K/V of video self-attention and video→audio per block, the velocities once) and the matmul FLOPs, then the
scaling model of docs/architecture.md for a real generation: per step on N machines ≈
t1 · (f_split / N + 1 − f_split) + bytes_N / bandwidth, f_split the FLOP share that splits (all but the audio
stream, which every rank runs whole). Real head geometry (LTX-2.3: 32 × 128 video, 32 × 64 audio), random
weights; on this 2-core CPU the ranks share the cores, so the measured ratio shows the overhead, not a speedup.

    python benchmarks/sequence_parallel.py [--ranks 2] [--layers 1] [--video-tokens 512] [--audio-tokens 32]
        [--text-tokens 128] [--repeat 2] [--dtype bfloat16] [--tflops 25] [--bandwidth-gbs 1.1 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import mlx.core as mx
from transformer_forward import add_geometry_arguments, config, flops, inputs

from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs
from mlx_ltx_core.model.transformer.sequence_parallel import sequence_parallel

RECEIVED = {"bytes": 0}  # what this rank's all-gathers bring in from the other ranks


def counting_all_gather():
    """``mx.distributed.all_gather`` that adds (N − 1) × the input's bytes to RECEIVED."""
    original = mx.distributed.all_gather

    def all_gather(x, *, group=None, stream=None):
        world = group.size() if group is not None else mx.distributed.init().size()
        RECEIVED["bytes"] += x.nbytes * (world - 1)
        return original(x, group=group, stream=stream)

    return all_gather


def forward_seconds(args: argparse.Namespace) -> dict:
    """Median seconds of one forward on this process's ranks (the launch's, or one), and bytes received."""
    group = mx.distributed.init()
    mx.random.seed(0)  # every rank builds the same weights and inputs
    dtype = getattr(mx, args.dtype)
    model = LTXModel(LTXModelArgs.from_dict(config(args)))
    model.set_dtype(dtype)
    mx.eval(model.parameters())
    video, audio = inputs(model, args, dtype)
    mx.eval(video, audio)
    split = sequence_parallel(model, group)
    mx.eval(split(video, audio))  # warm-up
    mx.reset_peak_memory()
    RECEIVED["bytes"] = 0
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        mx.eval(split(video, audio))
        times.append(time.perf_counter() - start)
    return {
        "ranks": group.size(),
        "seconds": statistics.median(times),
        "received_bytes_per_forward": RECEIVED["bytes"] // args.repeat,
        "peak_memory_mb": round(mx.get_peak_memory() / 2**20, 1),
    }


def split_share(args: argparse.Namespace) -> float:
    """The FLOP share of a forward that the ranks split: everything but the audio stream's own work."""
    audio_only = argparse.Namespace(**{**vars(args), "video_tokens": 0})
    return 1.0 - flops(audio_only) / flops(args)


def bytes_model(args: argparse.Namespace, ranks: int, itemsize: int) -> float:
    """Bytes a rank receives per forward: per block K and V of video self-attention (d wide) and of
    video→audio (audio width), plus the velocities once; (N − 1)/N of each gathered array."""
    d, da, tv = args.heads * args.head_dim, args.heads * args.audio_head_dim, args.video_tokens
    per_block = 2 * tv * d + 2 * tv * da
    return (per_block * args.layers + tv * 128) * itemsize * (ranks - 1) / ranks


def launch_worker(args: argparse.Namespace) -> dict:
    launcher = Path(sys.executable).with_name("mlx.launch")
    argv = [a for a in sys.argv[1:] if a != "--worker"]
    command = [str(launcher), "--backend", "ring", "--hosts", "127.0.0.1", "-n", str(args.ranks)]
    command += ["--starting-port", str(args.port), "--", sys.executable, __file__, "--worker", *argv]
    out = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the {args.ranks}-rank run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(lines[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_geometry_arguments(ap, layers=1)
    ap.set_defaults(video_tokens=512, audio_tokens=32, text_tokens=128)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16", help="bf16 keeps a rank < 2 GB")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--port", type=int, default=43210)
    ap.add_argument("--tflops", type=float, default=25.0, help="a Mac's sustained bf16 TFLOP/s for the model")
    ap.add_argument("--bandwidth-gbs", type=float, nargs="+", default=[1.1, 6.0], help="link GB/s for the model")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    mx.distributed.all_gather = counting_all_gather()
    if args.worker:
        result = forward_seconds(args)
        if mx.distributed.init().rank() == 0:
            print(json.dumps(result), flush=True)
        return
    one = forward_seconds(args)
    many = launch_worker(args)
    share = split_share(args)
    print(f"{'':<28}{'1 rank':>12}{f'{args.ranks} ranks':>12}")
    print(f"{'seconds per forward':<28}{one['seconds']:>12.3f}{many['seconds']:>12.3f}")
    print(f"{'peak memory MB (rank 0)':<28}{one['peak_memory_mb']:>12.1f}{many['peak_memory_mb']:>12.1f}")
    print(f"{'received MB per forward':<28}{0:>12.1f}{many['received_bytes_per_forward'] / 1e6:>12.1f}")
    print(f"ratio {args.ranks} ranks / 1 rank: {many['seconds'] / one['seconds']:.3f} (ranks share this CPU's cores)")
    print(f"split FLOP share: {share:.4f}; GFLOP per forward: {flops(args) / 1e9:.1f}")
    itemsize = 2 if args.dtype == "bfloat16" else 4
    print(f"bytes model per forward: {bytes_model(args, args.ranks, itemsize) / 1e6:.1f} MB (measured above)")
    real = argparse.Namespace(**{**vars(args), "layers": 48, "video_tokens": 18432, "audio_tokens": 126})
    t1, real_share = flops(real) / (args.tflops * 1e12), split_share(real)
    received = bytes_model(real, 2, 2)
    print(f"model, LTX-2.3 22B stage 2 (18432 video tokens, bf16), {args.tflops:g} TFLOP/s per Mac:")
    print(f"  1 Mac {t1:.1f} s per forward (split share {real_share:.4f}); 2 Macs: {received / 1e9:.2f} GB per rank")
    for bandwidth in args.bandwidth_gbs:
        t2 = t1 * (real_share / 2 + 1 - real_share) + received / (bandwidth * 1e9)
        print(f"  2 Macs at {bandwidth:g} GB/s: {t2:.1f} s (speed-up {t1 / t2:.2f}x, no overlap of compute and link)")
    print(
        json.dumps(
            {
                "benchmark": "sequence_parallel",
                "one": one,
                "many": many,
                "ratio": round(many["seconds"] / one["seconds"], 3),
                "split_share": round(share, 4),
                "bytes_model": bytes_model(args, args.ranks, itemsize),
            }
        )
    )


if __name__ == "__main__":
    main()
