#!/usr/bin/env python
"""Goldens for the HDR output path: working-space curves, primaries, HLG signal, BT.2020 10-bit YUV (v1.2.0).

Runs Lightricks v1.2.0's ltx_core.hdr (LogC3 / ACEScct compress and decompress, ``to_hdr_linear``), ltx_core.color's
``HlgGpuConverter`` (primaries → BT.2020 → HLG signal) and ``rgb_to_yuv420p10`` on small random inputs. Curves and the
HLG signal run in float64 (ground truth); the YUV planes are the reference's float32 uint16 codes (exact integers).
Writes OUT/hdr/<case>.safetensors and manifest.json.

Usage: python goldens_hdr.py [--out DIR] [--seed N] --ltx-core-src CHECKOUT
"""

from __future__ import annotations

import argparse
import json
import os
import sys

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import numpy as np
import torch
from ltx_core.color.hlg import HlgGpuConverter
from ltx_core.color.primaries import Primaries
from ltx_core.color.yuv import ColorRange, ColorSpace, rgb_to_yuv420p10
from ltx_core.hdr import HDRTransfer, to_hdr_linear
from safetensors.torch import save_file

SHAPE = (2, 6, 8, 3)  # (F, H, W, C): tiny frames, even H and W for 4:2:0


def _curves(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    # Linear light from deep shadow (below both curves' breaks) to 20× diffuse white, plus exact breaks and 0.
    linear = np.concatenate([rng.uniform(0, 0.02, 64), np.exp(rng.uniform(np.log(0.02), np.log(20.0), 192))])
    linear = np.concatenate([linear, [0.0, 0.010591, 0.0078125, 1.0]])
    codes = np.concatenate([rng.uniform(0, 1, 252), [0.0, 1.0, 0.155251141552511, 5.367655 * 0.010591 + 0.092809]])
    x, c = torch.tensor(linear, dtype=torch.float64), torch.tensor(codes, dtype=torch.float64)
    out = {"inputs.linear": x, "inputs.codes": c}
    for t in HDRTransfer:
        out[f"outputs_f64.{t.value}.compress"] = t.compress(x)
        out[f"outputs_f64.{t.value}.decompress"] = t.decompress(c)
    return out


def _to_linear(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    codes = torch.tensor(rng.uniform(0, 1, SHAPE), dtype=torch.float64)
    video = codes.permute(3, 0, 1, 2).unsqueeze(0)  # the reference's (1, C, F, H, W)
    out = {"inputs.codes": codes}
    for t in HDRTransfer:
        for p in Primaries:
            hdr = to_hdr_linear(video, transfer=t, out_primaries=p)
            out[f"outputs_f64.{t.value}.{p.value}"] = hdr[0].permute(1, 2, 3, 0).contiguous()
    return out


def _hlg(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    linear = torch.tensor(np.exp(rng.uniform(np.log(1e-4), np.log(16.0), SHAPE)), dtype=torch.float64)
    out = {"inputs.linear": linear}
    for p in Primaries:
        convert = HlgGpuConverter.create(primaries=p, device=torch.device("cpu"), dtype=torch.float64)
        signal = convert.to_hlg_signal_(linear.movedim(-1, -3)).movedim(-3, -1)
        out[f"outputs_f64.{p.value}.signal"] = signal.contiguous()
    return out


def _yuv(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    rgb = torch.tensor(rng.uniform(0, 1, SHAPE), dtype=torch.float32)
    y, u, v = rgb_to_yuv420p10(rgb.movedim(-1, -3).contiguous(), ColorSpace.BT_2020_NCL, ColorRange.MPEG)
    return {"inputs.rgb": rgb, "outputs.y": y.int(), "outputs.u": u.int(), "outputs.v": v.int()}


CASES = {"curves": _curves, "to_hdr_linear": _to_linear, "hlg_signal": _hlg, "yuv420p10": _yuv}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ltx-core-src", required=True, help="a Lightricks/LTX-2 v1.2.0 checkout")
    args = ap.parse_args()
    out = os.path.join(args.out, "hdr")
    os.makedirs(out, exist_ok=True)
    manifest = {
        "family": "hdr",
        "seed": args.seed,
        "source": "Lightricks v1.2.0 ltx_core.hdr / ltx_core.color",
        "cases": {},
    }
    for i, (case, make) in enumerate(CASES.items()):
        tensors = make(np.random.default_rng(7 + 1009 * args.seed + i))
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, f"{case}.safetensors"))
        manifest["cases"][case] = {
            "file": f"{case}.safetensors",
            "layout": "F H W C" if case != "curves" else "N",
            "tensors": {k: list(v.shape) for k, v in tensors.items()},
        }
        print(f"hdr/{case}: {len(tensors)} tensors")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
