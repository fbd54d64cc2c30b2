"""Transformer forward and video decode with a second CPU-bound process running, against a quiet machine.

Each measurement runs in a fresh worker process (BLAS reads its thread count at load), with
``OPENBLAS_NUM_THREADS`` unset (OpenBLAS's default: one thread per core) or set to each ``--threads`` value, and
without / with a hog: a separate process multiplying 512×512 float64 matrices in a loop on one thread (a
browser or a second job busy on one core). Prints the median seconds and the loaded / quiet ratio per setting.
Run it with the BLAS the project runs with (``LD_PRELOAD`` of OpenBLAS on Linux; Accelerate on a Mac).

    python benchmarks/under_load.py [--threads default 1 2] [--workloads forward decode] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HOG = "import numpy as np\na = np.random.rand(512, 512)\nwhile True:\n    a = a @ a; a /= np.abs(a).max()\n"


def forward_workload():
    """One transformer forward: LTX-2.3 blocks at half width (16 heads), 1 layer, 384 video + 34 audio + 128 text
    tokens (small enough for a loaded 2-core box; the BLAS behaviour is the same at full width)."""
    import mlx.core as mx
    from transformer_forward import config, inputs

    from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs

    args = argparse.Namespace(
        version="2.3", layers=1, heads=16, head_dim=128, audio_head_dim=64, video_tokens=384, audio_tokens=34,
        text_tokens=128,
    )  # fmt: skip
    model = LTXModel(LTXModelArgs.from_dict(config(args)))
    mx.eval(model.parameters())
    video, audio = inputs(model, args, mx.float32)
    mx.eval(video, audio)
    return lambda: mx.eval(model(video, audio))


def decode_workload():
    """One untiled decode: the LTX-2 decoder blocks at base width 8, a 9-frame 128×192 video."""
    import mlx.core as mx

    from mlx_ltx_core.model.video_vae import VideoDecoder, VideoDecoderArgs
    from mlx_ltx_core.model.video_vae.args import REAL_DECODER_CONFIGS

    decoder = VideoDecoder(VideoDecoderArgs.from_dict({**REAL_DECODER_CONFIGS["ltx2"], "decoder_base_channels": 8}))
    mx.eval(decoder.parameters())
    latent = mx.random.normal((1, 2, 4, 6, 128), key=mx.random.key(0))
    mx.eval(latent)
    return lambda: mx.eval(decoder(latent))


def worker(workload: str, repeat: int) -> None:
    run = {"forward": forward_workload, "decode": decode_workload}[workload]()
    run()  # warm-up
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), _cpu_seconds()
        run()
        times.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds() - start_cpu)
    print(json.dumps({"median_s": statistics.median(times), "cpu_s": statistics.median(cpu), "times": times}))


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process, all its threads (BLAS workers, spinning included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(workload: str, threads: str, hog: bool, repeat: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads != "default":
        env["OPENBLAS_NUM_THREADS"] = threads
    hog_proc = None
    if hog:
        hog_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        hog_env.pop("LD_PRELOAD", None)
        hog_proc = subprocess.Popen([sys.executable, "-c", HOG], env=hog_env)
        time.sleep(0.5)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", workload, "--repeat", str(repeat)],
            env=env, capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__),
        )  # fmt: skip
    finally:
        if hog_proc is not None:
            hog_proc.kill()
            hog_proc.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--threads", nargs="+", default=["default", "1", "2"])
    ap.add_argument("--workloads", nargs="+", choices=["forward", "decode"], default=["forward", "decode"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--worker", choices=["forward", "decode"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.repeat)
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; medians of {args.repeat}")
    print(f"{'workload':>8} {'threads':>8} {'quiet s':>8} {'cpu s':>6} {'loaded s':>9} {'cpu s':>6} {'ratio':>6}")
    rows = []
    for workload in args.workloads:
        for threads in args.threads:
            quiet = measure(workload, threads, False, args.repeat)
            loaded = measure(workload, threads, True, args.repeat)
            q, lo = quiet["median_s"], loaded["median_s"]
            rows.append({"workload": workload, "threads": threads, "quiet": quiet, "loaded": loaded, "ratio": lo / q})
            print(f"{workload:>8} {threads:>8} {q:>8.3f} {quiet['cpu_s']:>6.2f} {lo:>9.3f} {loaded['cpu_s']:>6.2f} "
                  f"{lo / q:>6.2f}", flush=True)  # fmt: skip
    print(json.dumps({"benchmark": "under_load", "load_average_end": os.getloadavg()[0], "rows": rows}))


if __name__ == "__main__":
    main()
