"""Time and peak memory of the 2.5 diffusion video decoder, tiled vs untiled, and fast vs reference NA.

    python benchmarks/diffusion_decoder.py [--frames 9] [--height 256 --width 384] [--channel-divisor 4]
        [--head-dim 64] [--tile 48 256 224] [--na-shape 1 5 16 24 4 64 --na-kernel 3 7 7]

Random weights; the shipped 2.5 decoder structure (REAL_DIFFUSION_DECODER_CONFIG: real depths, kernels 3x7x7 ...
11x11x11, strides, one x0 step, chunked_eager stage 5) with every stage width divided by ``--channel-divisor``
(1 = the real 2048 ... 256; the default 4 finishes on a small CPU). Decoder rows: untiled, and tiled with ``--tile``
(frames, height, width in frames / px; overlaps are the decoder's minimum, 40 frames / 160 px at the real kernels) —
both with the fast NA of this device (Metal kernel on Apple GPUs, blocked-dense elsewhere). NA rows: one
neighborhood attention of ``--na-shape`` (B, T, H, W, heads, head_dim) with the reference gather vs the fast path
(the gather holds N·K³ keys, so it is timed on one NA call, not a whole decode). ``peak`` is ``mx.get_peak_memory``
above what was resident before the call; ``estimate`` is ``estimate_peak_bytes`` at the run's dtype. Prints a table,
the ratios and one JSON line; writes nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import mlx.core as mx

from mlx_ltx_core.model.video_vae.diffusion_decoder import (
    REAL_DIFFUSION_DECODER_CONFIG,
    DiffusionVideoDecoder,
    DiffusionVideoDecoderArgs,
)
from mlx_ltx_core.model.video_vae.diffusion_presets import estimate_peak_bytes
from mlx_ltx_core.model.video_vae.diffusion_tiled import DimensionSizeConfig, TileSizeConfig, recommended_overlaps
from mlx_ltx_core.model.video_vae.neighborhood_attention import na3d, na3d_reference

MIB = 2**20


def measure(fn) -> tuple[float, float]:
    mx.clear_cache()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, (mx.get_peak_memory() - base) / MIB


def decoder(divisor: int, head_dim: int) -> DiffusionVideoDecoder:
    config = copy.deepcopy(REAL_DIFFUSION_DECODER_CONFIG)
    config["decoder"]["stage_channels"] = [c // divisor for c in config["decoder"]["stage_channels"]]
    config["decoder"]["head_dim"] = head_dim
    dec = DiffusionVideoDecoder(DiffusionVideoDecoderArgs.from_config(config))
    mx.eval(dec.parameters())
    return dec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--channel-divisor", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=64, help="real 64; e.g. 32 with --channel-divisor 8")
    ap.add_argument("--tile", type=int, nargs=3, default=[48, 256, 224], metavar=("FRAMES", "HEIGHT", "WIDTH"))
    ap.add_argument("--na-shape", type=int, nargs=6, default=[1, 5, 16, 24, 4, 64])
    ap.add_argument("--na-kernel", type=int, nargs=3, default=[3, 7, 7])
    args = ap.parse_args()

    dec = decoder(args.channel_divisor, args.head_dim)
    latent = mx.random.normal((1, (args.frames - 1) // 8 + 1, args.height // 32, args.width // 32, 128))
    overlap_t, overlap_hw = recommended_overlaps(dec)
    tile = TileSizeConfig(
        DimensionSizeConfig(args.tile[0], overlap_t), DimensionSizeConfig(args.tile[1], overlap_hw),
        DimensionSizeConfig(args.tile[2], overlap_hw),
    )  # fmt: skip
    rows = []
    for name, tiling in (("untiled", None), ("tiled", tile)):

        def run(tiling=tiling) -> None:
            for chunk in dec.tiled_decode(latent, tiling):
                mx.eval(chunk)
                del chunk

        seconds, peak = measure(run)
        dims = None if tiling is None else tuple(args.tile)
        estimate = estimate_peak_bytes(dec, args.frames, args.height, args.width, dims, itemsize=4) / MIB
        rows.append({"row": f"decode {name}", "seconds": seconds, "peak_mib": peak, "estimate_mib": estimate})

    q, k, v = (mx.random.normal(tuple(args.na_shape)) for _ in range(3))
    mx.eval(q, k, v)
    for name, fn in (("na reference", na3d_reference), ("na fast", na3d)):
        seconds, peak = measure(lambda fn=fn: mx.eval(fn(q, k, v, args.na_kernel)))
        rows.append({"row": name, "seconds": seconds, "peak_mib": peak, "estimate_mib": None})

    setup = f"{args.frames} frames {args.height}x{args.width}, widths /{args.channel_divisor}"
    print(f"{setup}, float32, {mx.default_device()}")
    print(f"{'row':<16} {'seconds':>9} {'peak MiB':>10} {'estimate MiB':>13}")
    for r in rows:
        est = "" if r["estimate_mib"] is None else f"{r['estimate_mib']:13.0f}"
        print(f"{r['row']:<16} {r['seconds']:9.2f} {r['peak_mib']:10.0f} {est}")
    by = {r["row"]: r for r in rows}
    ratios = {
        "tiled_vs_untiled_seconds": by["decode tiled"]["seconds"] / by["decode untiled"]["seconds"],
        "tiled_vs_untiled_peak": by["decode tiled"]["peak_mib"] / max(by["decode untiled"]["peak_mib"], 1e-9),
        "fast_vs_reference_na_seconds": by["na fast"]["seconds"] / by["na reference"]["seconds"],
        "fast_vs_reference_na_peak": by["na fast"]["peak_mib"] / max(by["na reference"]["peak_mib"], 1e-9),
    }
    print("  ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(json.dumps({"benchmark": "diffusion_decoder", "args": vars(args), "rows": rows, "ratios": ratios}))


if __name__ == "__main__":
    main()
