#!/usr/bin/env python
"""Convert a synthetic full-size LTX-2 checkpoint: peak RSS and throughput of ltx-convert.

Writes a checkpoint with the real key names and shapes (tests/data/full_size_keys.json), random bfloat16 data and
real-style metadata to a scratch directory, converts it in a fresh process (so its peak RSS is the conversion's
alone), prints a table and one JSON line, and deletes the scratch data. By default the file holds the components
this build converts (the transformer: ~38 GB); ``--all-components`` adds the VAE, audio, vocoder and text parts
(~43 GB; those are read, hashed and reported as not converted). ``--layers N`` shrinks the transformer to N blocks
(e.g. to measure the unquantized path within the free disk space). Free disk space is checked first.

Usage: python benchmarks/convert_full_size.py [--quantize 4|8] [--layers N] [--version ltx-2] [--scratch DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mlx_ltx_convert.components import by_name
from mlx_ltx_convert.safetensors_io import ShardWriter

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = {"ltx-2": "2.0.0", "ltx-2.3": "2.3.0"}
POOL_BYTES = 256 * 1024**2

_CHILD = """
import json, resource, sys, time
from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.quantize import QuantizeOptions
bits = int(sys.argv[3])
start = time.perf_counter()
report = convert([sys.argv[1]], sys.argv[2], quantize=QuantizeOptions(bits) if bits else None)
seconds = time.perf_counter() - start
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({
    "seconds": seconds,
    "bytes_read": report.bytes_read,
    "bytes_written": report.bytes_written,
    "vm_hwm_kb": int(status["VmHWM"].split()[0]),
    "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "not_converted": list(report.index["not_converted"]),
}))
"""


def checkpoint_keys(version: str, layers: int | None, all_components: bool) -> tuple[dict, dict[str, tuple]]:
    """(metadata config, key → shape) of the synthetic checkpoint."""
    model = json.loads((ROOT / "tests" / "data" / "full_size_keys.json").read_text())["models"][version]
    metadata = json.loads(json.dumps(model["metadata_config"]))
    if layers is not None:
        metadata["transformer"]["num_layers"] = layers
    keys: dict[str, tuple] = {}
    for name, entry in model["components"].items():
        if entry["source"] != "checkpoint" or not (all_components or by_name(name)):
            continue
        n = metadata["transformer"]["num_layers"] if name == "transformer" else 0
        for key, shape in entry["keys"].items():
            for k in [key.format(i=i) for i in range(n)] if "{i}" in key else [key]:
                keys[k] = tuple(shape)
    return metadata, keys


def write_checkpoint(path: Path, metadata: dict, keys: dict[str, tuple], version: str) -> float:
    """Random bfloat16 values (|x| in [2^-7, 2^-3)) from a recycled pool, streamed to disk; returns seconds."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**16, POOL_BYTES // 2, dtype=np.uint16)
    pool = (bits & 0x81FF) | 0x3C00  # sign, 2 exponent bits, 7 mantissa bits → a sane range, no inf/nan
    entries = [(k, "BF16", keys[k]) for k in sorted(keys)]
    meta = {"config": json.dumps(metadata), "model_version": VERSIONS[version]}
    start = time.perf_counter()
    writer = ShardWriter(path, entries, meta)
    for name, _, shape in entries:
        n, offset = math.prod(shape), int(rng.integers(0, pool.size))
        chunks, left = [], n
        while left:
            take = min(left, pool.size - offset)
            chunks.append(pool[offset : offset + take])
            left, offset = left - take, 0
        writer.write(name, np.concatenate(chunks) if len(chunks) > 1 else chunks[0])
    writer.close()
    return time.perf_counter() - start


def planned_output_bytes(path: Path, bits: int) -> int:
    from mlx_ltx_convert.convert import plan
    from mlx_ltx_convert.quantize import QuantizeOptions

    plans = plan([path], quantize=QuantizeOptions(bits) if bits else None)
    return sum(c.nbytes() for p in plans for c in p.components)


def _convert(ckpt: Path, out: Path, bits: int) -> dict:
    """One conversion in a fresh process; its output is deleted after measuring."""
    try:
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ckpt), str(out), str(bits)], capture_output=True, text=True, check=False
        )
        if child.returncode:
            sys.exit(f"conversion failed: {child.stderr.strip().splitlines()[-1:]}")
        return json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="ltx-2", choices=sorted(VERSIONS))
    ap.add_argument("--quantize", type=int, nargs="+", default=[0], choices=[0, 4, 8], help="0: keep bfloat16")
    ap.add_argument("--layers", type=int, default=None, help="transformer blocks (default: the real 48)")
    ap.add_argument("--all-components", action="store_true")
    ap.add_argument("--scratch", default=None, help="scratch directory (default: a new one in the system temp dir)")
    args = ap.parse_args()

    metadata, keys = checkpoint_keys(args.version, args.layers, args.all_components)
    source_bytes = sum(2 * math.prod(s) for s in keys.values())
    scratch = Path(tempfile.mkdtemp(prefix="ltx-convert-bench-", dir=args.scratch))
    free = shutil.disk_usage(scratch).free
    # The largest output, estimated before the checkpoint exists: bf16 size, or ~0.54 / ~0.29 of it (8 / 4-bit).
    estimate = source_bytes * max({0: 1.0, 8: 0.54, 4: 0.29}[b] for b in args.quantize)
    if source_bytes + estimate + 4e9 > free:
        shutil.rmtree(scratch)
        need = (source_bytes + estimate) / 1e9
        sys.exit(f"needs {need:.1f} GB + 4 GB margin, {free / 1e9:.1f} GB free; use --layers")
    rows = []
    try:
        ckpt = scratch / f"synthetic-{args.version}.safetensors"
        write_s = write_checkpoint(ckpt, metadata, keys, args.version)
        print(f"wrote {source_bytes / 1e9:.2f} GB ({len(keys)} tensors) in {write_s:.0f} s", flush=True)
        for bits in args.quantize:
            output = planned_output_bytes(ckpt, bits)
            result = _convert(ckpt, scratch / "out", bits)
            rows.append(
                {
                    "version": args.version,
                    "layers": metadata["transformer"]["num_layers"],
                    "checkpoint_gb": round(source_bytes / 1e9, 2),
                    "quantize": bits or "bf16",
                    "output_gb": round(output / 1e9, 2),
                    "convert_s": round(result["seconds"], 1),
                    "read_mb_s": round(result["bytes_read"] / result["seconds"] / 1e6),
                    "peak_rss_gb": round(result["vm_hwm_kb"] * 1024 / 1e9, 2),
                    "not_converted": result["not_converted"],
                }
            )
            print(json.dumps({"benchmark": "convert_full_size", **rows[-1]}), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    columns = list(rows[0])
    print("  ".join(f"{c:>13}" for c in columns[:-1]))
    for row in rows:
        print("  ".join(f"{row[c]!s:>13}" for c in columns[:-1]))


if __name__ == "__main__":
    main()
