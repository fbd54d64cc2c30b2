"""Peak memory while loading a transformer component folder (eager and lazy), against its size on disk.

Writes a random-weight transformer folder (real LTX-2.3 geometry, --layers blocks, bfloat16) to a scratch folder,
then loads it in fresh processes and reports MLX's peak memory and the process's peak RSS (VmHWM) as ratios of the
shard bytes. The target is ≤ 1.1x: shards are memory-mapped and read once, with no second copy.

    python benchmarks/model_loading.py [--layers 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import json, sys, time
import mlx.core as mx
from mlx_ltx_core.model.transformer import load_transformer
start = time.perf_counter()
model = load_transformer(sys.argv[1], lazy=sys.argv[2] == "lazy")
if sys.argv[2] == "lazy":
    mx.eval(model.parameters())  # first use reads everything
seconds = time.perf_counter() - start
hwm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"peak_mlx": mx.get_peak_memory(), "peak_rss": hwm, "seconds": seconds}))
"""


def write_folder(root: Path, layers: int) -> Path:
    import mlx.core as mx

    from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, save_transformer
    from mlx_ltx_core.model.transformer.args import REQUIRED_AV_CONFIG, REQUIRED_CONFIG

    config = {
        **REQUIRED_CONFIG,
        **REQUIRED_AV_CONFIG,
        "num_layers": layers,
        "caption_proj_before_connector": True,
        "apply_gated_attention": True,
        "cross_attention_adaln": True,
        "rope_type": "split",
    }
    model = LTXModel(LTXModelArgs.from_dict(config))
    model.set_dtype(mx.bfloat16)
    mx.eval(model.parameters())
    return save_transformer(root / "transformer", model, config)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ltx-loading-"))
    try:
        folder = write_folder(root, args.layers)
        size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
        rows = {}
        for mode in ("eager", "lazy"):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(folder), mode], capture_output=True, text=True, check=True
            )
            rows[mode] = json.loads(out.stdout)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"transformer folder: {size / 1e9:.2f} GB ({args.layers} blocks, bfloat16)")
    print(f"{'mode':<8}{'seconds':>9}{'MLX peak / disk':>17}{'RSS peak / disk':>17}")
    for mode, r in rows.items():
        print(f"{mode:<8}{r['seconds']:>9.2f}{r['peak_mlx'] / size:>17.2f}{r['peak_rss'] / size:>17.2f}")
    print(json.dumps({"benchmark": "model_loading", "bytes": size, **{m: r for m, r in rows.items()}}))


if __name__ == "__main__":
    main()
