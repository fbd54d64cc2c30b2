"""Peak memory and time of video VAE decoding, tiled and untiled, with the LTX-2 decoder block list.

    python benchmarks/vae_decode.py [--frames 33 97 193 481] [--base-channels 4] [--height 512 --width 768]

Random weights; the real LTX-2 decoder blocks (res_x 5 x4 around three residual compress_all x2, 128 latent
channels, reflect padding) with narrow widths (``decoder_base_channels``; real 128; 4 is the least the residual
blocks allow) so it finishes on a small CPU. Tiled rows use ``TilingConfig.default()`` (512 px / 64 frames) and
drop each chunk as a writer would. ``peak`` is ``mx.get_peak_memory`` above the loaded model and latent;
``estimate`` is ``estimate_decode_peak_bytes`` (what the ``auto`` preset compares with its budget). Prints a table
and one JSON line; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import time

import mlx.core as mx

from mlx_ltx_core.model.video_vae import TilingConfig, VideoDecoder, VideoDecoderArgs, estimate_decode_peak_bytes
from mlx_ltx_core.model.video_vae.args import REAL_DECODER_CONFIGS

MIB = 2**20


def run(decoder: VideoDecoder, latent: mx.array, tiling: TilingConfig | None) -> dict:
    mx.clear_cache()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    start = time.perf_counter()
    if tiling is None:
        video = decoder(latent)
        mx.eval(video)
        frames, chunks = video.shape[1], 1
        del video
    else:
        frames = chunks = 0
        for chunk in decoder.tiled_decode(latent, tiling):
            frames, chunks = frames + chunk.shape[1], chunks + 1
            del chunk
    seconds = time.perf_counter() - start
    peak = mx.get_peak_memory() - base
    estimate = estimate_decode_peak_bytes(decoder.args, tuple(latent.shape), tiling)
    return {
        "frames": frames,
        "chunks": chunks,
        "seconds": seconds,
        "peak_mib": peak / MIB,
        "estimate_mib": estimate / MIB,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[33, 97, 193, 481])
    ap.add_argument("--base-channels", type=int, default=4)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=768)
    ap.add_argument("--modes", nargs="+", default=["untiled", "tiled"], choices=["untiled", "tiled"])
    opts = ap.parse_args()
    config = {**REAL_DECODER_CONFIGS["ltx2"], "decoder_base_channels": opts.base_channels}
    decoder = VideoDecoder(VideoDecoderArgs.from_dict(config))
    mx.eval(decoder.parameters())
    rows = []
    print(
        f"decoder_base_channels={opts.base_channels}, {opts.height}x{opts.width}, tiling default = 512 px / 64 frames"
    )
    print(f"{'frames':>6} {'mode':>8} {'chunks':>6} {'time s':>8} {'peak MiB':>9} {'estimate MiB':>12}")
    for frames in opts.frames:
        latent = mx.random.normal(
            (1, (frames - 1) // 8 + 1, opts.height // 32, opts.width // 32, 128), key=mx.random.key(0)
        )
        mx.eval(latent)
        for mode in opts.modes:
            row = {"mode": mode, **run(decoder, latent, TilingConfig.default() if mode == "tiled" else None)}
            rows.append(row)
            print(
                f"{row['frames']:>6} {mode:>8} {row['chunks']:>6} {row['seconds']:>8.1f} {row['peak_mib']:>9.0f} "
                f"{row['estimate_mib']:>12.0f}",
                flush=True,
            )
    tiled = {r["frames"]: r["peak_mib"] for r in rows if r["mode"] == "tiled"}
    growth = tiled[481] / tiled[97] if 97 in tiled and 481 in tiled else None
    if growth is not None:
        print(f"tiled peak memory 481 / 97 frames: {growth:.2f}x")
    print(json.dumps({"benchmark": "vae_decode", "base_channels": opts.base_channels, "rows": rows,
                      "tiled_peak_growth_97_to_481": growth}))  # fmt: skip


if __name__ == "__main__":
    main()
