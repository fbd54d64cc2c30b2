#!/usr/bin/env python
"""Goldens for the pipelines' media preprocessing: resize-and-center-crop, pixel normalisation, H.264 degradation.

Runs ltx_pipelines.utils.media_io (PyPI ltx-pipelines 1.0.0) on small random images; the resize runs in float64
(ground truth). Writes OUT/media/<case>.safetensors and manifest.json.

Usage: python goldens_media.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
from ltx_pipelines.utils.media_io import normalize_latent, preprocess, resize_and_center_crop
from safetensors.torch import save_file

# (case, source (F, H, W), target (H, W))
RESIZE_CASES = [
    ("resize_up", (1, 19, 27), (32, 48)),
    ("resize_down", (1, 70, 90), (32, 48)),
    ("resize_same", (1, 32, 48), (32, 48)),
    ("resize_video_portrait", (3, 40, 30), (16, 24)),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ltx-core-src", default=None, help="ignored (the media code is the same in 1.0.0 and 1.2.0)")
    args = ap.parse_args()
    out = os.path.join(args.out, "media")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234 + 7919 * args.seed)
    manifest = {"family": "media", "seed": args.seed, "source": "ltx-pipelines==1.0.0 media_io", "cases": {}}
    for case, (f, h, w), (th, tw) in RESIZE_CASES:
        pixels = rng.integers(0, 256, size=(f, h, w, 3)).astype(np.uint8)
        src = torch.from_numpy(pixels).double()
        resized = resize_and_center_crop(src[0] if f == 1 else src, th, tw)  # (1, C, F, H, W)
        normalized = normalize_latent(resized, torch.device("cpu"), torch.float64)
        tensors = {"inputs.pixels": torch.from_numpy(pixels), "outputs_f64.normalized": normalized.contiguous()}
        save_file(tensors, os.path.join(out, f"{case}.safetensors"))
        manifest["cases"][case] = {"file": f"{case}.safetensors", "height": th, "width": tw, "layout": "B C F H W"}
    # H.264 degradation (libx264 crf 33, preset veryfast, yuv420p) of a smooth image with detail.
    yy, xx = np.mgrid[0:32, 0:46]
    smooth = np.stack([xx * 3, yy * 5, (xx + yy) * 2], -1) % 256
    image = (smooth + rng.integers(0, 40, size=smooth.shape)).clip(0, 255).astype(np.uint8)
    degraded = preprocess(image, crf=33)
    save_file(
        {
            "inputs.pixels": torch.from_numpy(image),
            "outputs.degraded": torch.from_numpy(np.ascontiguousarray(degraded)),
        },
        os.path.join(out, "h264_crf33.safetensors"),
    )
    manifest["cases"]["h264_crf33"] = {"file": "h264_crf33.safetensors", "crf": 33}
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
