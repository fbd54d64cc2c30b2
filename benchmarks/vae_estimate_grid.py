"""The decode peak estimate behind ``--tiling auto`` against measured peaks over a grid of decoders and sizes.

    python benchmarks/vae_estimate_grid.py [--blocks ltx2 ltx23] [--base-channels 4 8] [--frames 9 33 65]
        [--sizes 256x384 512x768] [--max-estimate-gib 6]

Random weights, the real LTX-2 and LTX-2.3 decoder block lists at narrow widths (``decoder_base_channels``; real
128). Each point decodes untiled and with the default tiling (512 px / 64 frames), measures ``mx.get_peak_memory``
above the loaded model and latent, and prints ``estimate_decode_peak_bytes`` beside it. Points whose estimate
exceeds ``--max-estimate-gib`` are skipped. The summary line counts points within ±20%; one JSON line follows.
"""

from __future__ import annotations

import argparse
import itertools
import json

import mlx.core as mx

from mlx_ltx_core.model.video_vae import (
    TILING_PRESETS,
    VideoDecoder,
    VideoDecoderArgs,
    estimate_decode_peak_bytes,
    measure_decode_peak_bytes,
)
from mlx_ltx_core.model.video_vae.args import REAL_DECODER_CONFIGS

MIB = 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", nargs="+", default=list(REAL_DECODER_CONFIGS), choices=list(REAL_DECODER_CONFIGS))
    ap.add_argument("--base-channels", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--frames", type=int, nargs="+", default=[9, 33, 65])
    ap.add_argument("--sizes", nargs="+", default=["256x384", "512x768"])
    ap.add_argument("--modes", nargs="+", default=["untiled", "default", "aggressive"])
    ap.add_argument("--max-estimate-gib", type=float, default=6.0)
    opts = ap.parse_args()
    rows = []
    print(
        f"{'blocks':>6} {'base':>4} {'size':>8} {'frames':>6} {'mode':>10} {'peak MiB':>9} {'est MiB':>8} {'ratio':>6}"
    )
    for blocks, base in itertools.product(opts.blocks, opts.base_channels):
        args = VideoDecoderArgs.from_dict({**REAL_DECODER_CONFIGS[blocks], "decoder_base_channels": base})
        decoder = VideoDecoder(args)
        mx.eval(decoder.parameters())
        for size, frames in itertools.product(opts.sizes, opts.frames):
            h, w = (int(v) for v in size.split("x"))
            shape = (1, (frames - 1) // 8 + 1, h // 32, w // 32, 128)
            for mode in opts.modes:
                tiling = TILING_PRESETS[mode] if mode != "untiled" else None
                estimate = estimate_decode_peak_bytes(args, shape, tiling)
                if estimate > opts.max_estimate_gib * 2**30:
                    continue
                latent = mx.random.normal(shape, key=mx.random.key(0))
                mx.eval(latent)
                peak = measure_decode_peak_bytes(decoder, latent, tiling)
                row = {"blocks": blocks, "base_channels": base, "size": size, "frames": frames, "mode": mode,
                       "peak_mib": peak / MIB, "estimate_mib": estimate / MIB, "ratio": estimate / peak}  # fmt: skip
                rows.append(row)
                print(
                    f"{blocks:>6} {base:>4} {size:>8} {frames:>6} {mode:>10} {row['peak_mib']:>9.0f} "
                    f"{row['estimate_mib']:>8.0f} {row['ratio']:>6.2f}",
                    flush=True,
                )
    ratios = [r["ratio"] for r in rows]
    inside = sum(0.8 <= r <= 1.2 for r in ratios)
    print(f"estimate / measured: {min(ratios):.2f} to {max(ratios):.2f}; within ±20%: {inside} of {len(rows)} points")
    print(json.dumps({"benchmark": "vae_estimate_grid", "rows": rows, "within_20pct": inside, "points": len(rows)}))


if __name__ == "__main__":
    main()
