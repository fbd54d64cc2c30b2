"""Low-memory mode: peak memory and time per denoising step, resident vs blocks read from disk, over depths.

A synthetic LTX-2.3 transformer (random weights) is written once as a component folder with one shard per block;
the shallower depths reuse its shards (hard links). Each (mode, depth) runs in a fresh process: load, then
``--steps`` forwards of the T2V step inside ``stage_constants()`` (as a denoising stage runs), the first one a
warm-up. Peak = MLX's peak allocation over the timed steps (weights held + activations + the stage's constants);
the low-memory target is ``resident part + 2 blocks + activations`` and flat in the number of layers (within
10% from the first depth to the last). The shards are read from the page cache here (the folder was just written);
a cold SSD adds its read time, which ``prefetch`` overlaps with the previous block. The time ratio comes from one
more process at the first depth that alternates the two modes' steps ``--repeat`` times (load drift on a shared
machine then hits both alike).

Defaults fit a 2-core, 3 GB box in minutes: width 1024 (8 × 128 heads, audio 8 × 64), float32, 480 video + 32 audio
+ 128 text tokens, depths 8 16 48, resident only up to 16 layers (``--resident-max-layers``; 48 resident layers are
4.5 GB). Real LTX-2.3 is width 4096 (32 heads), 48 layers.

    python benchmarks/low_memory.py [--depths 8 16 48] [--heads 8] [--video-tokens 480] [--steps 3] [--repeat 4]
        [--resident-max-layers 16] [--blocks-per-group 1] [--no-prefetch] [--folder /tmp/ltx-low-memory] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import mlx.core as mx
from mlx.utils import tree_flatten
from transformer_forward import add_geometry_arguments, config, inputs

from mlx_ltx_core.component_format import config_json, index_json, write_component_json
from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, load_transformer
from mlx_ltx_core.model.transformer.streaming import BLOCKS, block_of, load_streamed_transformer, stored_bytes


def write_folder(root: Path, args: argparse.Namespace, layers: int) -> Path:
    """The deepest model as a component folder, one shard per block, written a block at a time (memory: one
    block); returns the folder."""
    folder = root / f"L{layers}" / "transformer"
    if (folder / "model.safetensors.index.json").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cfg = {**config(args), "num_layers": layers}
    weight_map: dict[str, str] = {}
    for block in range(-1, layers):  # -1: the resident part
        name = "resident.safetensors" if block < 0 else f"block-{block:03d}.safetensors"
        one = LTXModel(LTXModelArgs.from_dict({**cfg, "num_layers": 1}))  # lazy random weights
        params = dict(tree_flatten(one.parameters()))
        if block < 0:
            part = {k: v for k, v in params.items() if block_of(k) is None}
        else:
            part = {f"{BLOCKS}{block}.{k[len(BLOCKS) + 2 :]}": v for k, v in params.items() if block_of(k) == 0}
        mx.eval(part)
        mx.save_safetensors(str(folder / name), part, metadata={"format": "mlx"})
        weight_map.update(dict.fromkeys(part, name))
        del one, params, part
        mx.clear_cache()
    _write_json(folder, cfg, weight_map)
    return folder


def shallow_folder(deep: Path, root: Path, layers: int, args: argparse.Namespace) -> Path:
    """The first ``layers`` blocks of the deep folder (shards hard-linked)."""
    folder = root / f"L{layers}" / "transformer"
    if (folder / "model.safetensors.index.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    index = json.loads((deep / "model.safetensors.index.json").read_text())
    weight_map = {k: s for k, s in index["weight_map"].items() if (b := block_of(k)) is None or b < layers}
    for shard in set(weight_map.values()):
        if not (folder / shard).exists():
            os.link(deep / shard, folder / shard)
    _write_json(folder, {**config(args), "num_layers": layers}, weight_map)
    return folder


def _write_json(folder: Path, cfg: dict, weight_map: dict[str, str]) -> None:
    shards = {s: {"size": (folder / s).stat().st_size} for s in sorted(set(weight_map.values()))}
    total = sum(v["size"] for v in shards.values())
    full = config_json(cfg, "transformer", {"model_type": "AudioVideo"})
    write_component_json(folder, full, index_json(weight_map, total, shards))


def run_one(args: argparse.Namespace) -> dict:
    """In this process: load (resident or streamed), then the timed steps; figures as a dict."""
    folder = Path(args.run_folder)
    start = time.perf_counter()
    model = load_transformer(folder) if args.run_mode == "resident" else _streamed(folder, args)
    load_s = time.perf_counter() - start
    video, audio = inputs(model, args, mx.float32)
    mx.eval(video, audio)
    held = mx.get_active_memory()
    times = []
    with model.stage_constants():
        for step in range(args.steps):
            if step == 1:
                mx.reset_peak_memory()
            start = time.perf_counter()
            mx.eval(model(video, audio))
            times.append(time.perf_counter() - start)
    timed = times[1:] or times
    return {
        "mode": args.run_mode,
        "layers": model.args.num_layers,
        "load_s": round(load_s, 2),
        "seconds_per_step": round(statistics.median(timed), 3),
        "held_before_mb": round(held / 2**20, 1),
        "peak_mb": round(mx.get_peak_memory() / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_interleaved(args: argparse.Namespace) -> dict:
    """In this process: both modes on one folder, their steps alternated ``--repeat`` times (load drift on a shared
    machine hits both alike); the median of the per-pair ratios."""
    folder = Path(args.run_folder)
    models = {"resident": load_transformer(folder), "low-memory": _streamed(folder, args)}
    video, audio = inputs(models["resident"], args, mx.float32)
    pairs = []
    with models["resident"].stage_constants(), models["low-memory"].stage_constants():
        for rep in range(args.repeat + 1):  # the first pair warms up
            seconds = {}
            for name, model in models.items():
                start = time.perf_counter()
                mx.eval(model(video, audio))
                seconds[name] = time.perf_counter() - start
            if rep:
                pairs.append(seconds)
    ratios = [p["low-memory"] / p["resident"] for p in pairs]
    return {
        "layers": models["resident"].args.num_layers,
        "resident_s": round(statistics.median(p["resident"] for p in pairs), 3),
        "low_memory_s": round(statistics.median(p["low-memory"] for p in pairs), 3),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
    }


def _streamed(folder: Path, args: argparse.Namespace):
    return load_streamed_transformer(folder, blocks_per_group=args.blocks_per_group, prefetch=not args.no_prefetch)


def child(args: argparse.Namespace, mode: str, folder: Path) -> dict:
    argv = [sys.executable, __file__, *sys.argv[1:], "--run-mode", mode, "--run-folder", str(folder)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} {folder}: failed\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    add_geometry_arguments(ap, layers=48)
    ap.set_defaults(heads=8, video_tokens=480, audio_tokens=32, text_tokens=128)
    ap.add_argument("--depths", type=int, nargs="+", default=[8, 16, 48])
    ap.add_argument("--steps", type=int, default=3, help="forwards per run; the first is a warm-up")
    ap.add_argument("--resident-max-layers", type=int, default=16)
    ap.add_argument(
        "--repeat", type=int, default=4, help="alternated step pairs of the time ratio (at the first depth)"
    )
    ap.add_argument("--blocks-per-group", type=int, default=1)
    ap.add_argument("--no-prefetch", action="store_true")
    ap.add_argument("--folder", type=Path, default=Path("/tmp/ltx-low-memory"))
    ap.add_argument("--keep", action="store_true", help="keep the written folders")
    ap.add_argument("--run-mode", help=argparse.SUPPRESS)
    ap.add_argument("--run-folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_mode:
        print(json.dumps(run_interleaved(args) if args.run_mode == "interleaved" else run_one(args)))
        return
    depths = sorted(args.depths)
    root = args.folder / f"w{args.heads * args.head_dim}"
    try:
        report(args, root, depths)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def report(args: argparse.Namespace, root: Path, depths: list[int]) -> None:
    deep = write_folder(root, args, depths[-1])
    sizes = stored_bytes(_read(deep))
    resident_part = sum(n for k, n in sizes.items() if block_of(k) is None)
    block = max(sum(n for k, n in sizes.items() if block_of(k) == b) for b in range(depths[-1]))
    rows = []
    for layers in depths:
        folder = _depth_folder(deep, root, layers, args, depths)
        for mode in ("resident", "low-memory"):
            if mode == "resident" and layers > args.resident_max_layers:
                continue
            rows.append(child(args, mode, folder))
            print(f"{mode:>10} L{layers:<3} " + " ".join(f"{k}={v}" for k, v in rows[-1].items() if k not in ("mode",)))
    mb = 2**20
    print(f"weights: resident part {resident_part / mb:.1f} MB, one block {block / mb:.1f} MB")
    low = {r["layers"]: r for r in rows if r["mode"] == "low-memory"}
    res = {r["layers"]: r for r in rows if r["mode"] == "resident"}
    for layers in depths:
        if layers in res:
            r, s = res[layers], low[layers]
            print(
                f"L{layers}: low-memory/resident peak {s['peak_mb'] / r['peak_mb']:.3f}, "
                f"time per step {s['seconds_per_step'] / r['seconds_per_step']:.3f}"
            )
    first, last = low[depths[0]], low[depths[-1]]
    growth = last["peak_mb"] / first["peak_mb"] - 1
    print(
        f"low-memory peak L{depths[0]} → L{depths[-1]}: {growth:+.1%} ({'flat' if abs(growth) <= 0.10 else 'NOT flat'})"
    )
    if res:
        layers = min(res)  # activations + constants of a resident step: its peak less all its weights
        weights = resident_part + sum(n for k, n in sizes.items() if (b := block_of(k)) is not None and b < layers)
        activations = res[layers]["peak_mb"] * mb - weights
        budget = resident_part + 2 * args.blocks_per_group * block + activations
        worst = max(r["peak_mb"] for r in low.values()) * mb
        print(
            f"target resident part + 2 groups + activations = {budget / mb:.1f} MB; worst low-memory peak "
            f"{worst / mb:.1f} MB ({'within' if worst <= budget else 'OVER'})"
        )
    timing = None
    if args.repeat and res:
        timing = child(args, "interleaved", _depth_folder(deep, root, min(res), args, depths))
        print(
            f"L{timing['layers']} time per step, alternated {args.repeat}x: resident {timing['resident_s']} s, "
            f"low-memory {timing['low_memory_s']} s, ratio {timing['ratio_median']} (pairs {timing['ratios']})"
        )
    result = {"benchmark": "low_memory", "width": args.heads * args.head_dim, "rows": rows, "interleaved": timing}
    print(json.dumps(result))


def _depth_folder(deep: Path, root: Path, layers: int, args: argparse.Namespace, depths: list[int]) -> Path:
    return shallow_folder(deep, root, layers, args) if layers != depths[-1] else deep


def _read(folder: Path):
    from mlx_ltx_core.component_format import read_component

    return read_component(folder, "transformer")


if __name__ == "__main__":
    main()
