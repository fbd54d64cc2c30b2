#!/usr/bin/env python
"""Goldens for single diffusion steps added after the pipelines goldens: the ancestral Euler step
(``EulerAncestralDiffusionStep`` of Lightricks ltx_core v1.2.0; PyPI 1.0.0 has none).

The official step runs on small random float32 sample / x0 / noise tensors over two reference schedules
(``LTX2Scheduler().execute(8)`` and the distilled sigmas) for a few (eta, s_noise, step) cases: mid steps, the
first step from sigma 1, eta 0 without noise, and the terminal zero-sigma step. Each case runs on the float32
inputs and on float64 copies: the reference casts sigmas and tensors to float32 inside the step, so both give the
same values (the manifest's f32-vs-f64 gap is 0) and the output is stored, losslessly, as float32.

Usage: python goldens_steps.py --out DIR --seed N --ltx-core-src CHECKOUT   (CHECKOUT: Lightricks/LTX-2 @ 400fd31)
Writes DIR/steps/euler_ancestral.safetensors (``inputs.{sample,denoised,noise}`` (1, 12, 8),
``inputs.sigmas.<schedule>``, ``outputs.<case>``) and DIR/steps/manifest.json (per case: schedule, step_index, eta,
s_noise, noise).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        sys.path.insert(0, os.path.join(_src, "packages", "ltx-pipelines", "src"))
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from ltx_core.components.schedulers import LTX2Scheduler
from safetensors.torch import save_file

try:
    from ltx_core.components.diffusion_steps import EulerAncestralDiffusionStep
    from ltx_pipelines.utils.constants import DISTILLED_SIGMA_VALUES
except ImportError as e:
    raise SystemExit(f"goldens_steps.py needs Lightricks v1.2.0 sources (--ltx-core-src CHECKOUT): {e}") from e

torch.set_grad_enabled(False)

# (case, schedule, step_index, eta, s_noise, with noise)
CASES = [
    ("distilled.step2.eta1", "distilled_sigmas", 2, 1.0, 1.0, True),
    ("distilled.step2.eta0.5", "distilled_sigmas", 2, 0.5, 1.0, True),
    ("distilled.step5.eta1.snoise0.7", "distilled_sigmas", 5, 1.0, 0.7, True),
    ("distilled.step6.eta0.5.snoise0.7", "distilled_sigmas", 6, 0.5, 0.7, True),
    ("distilled.step3.eta0.no_noise", "distilled_sigmas", 3, 0.0, 1.0, False),
    ("distilled.step7.terminal", "distilled_sigmas", 7, 1.0, 1.0, True),
    ("ltx2_scheduler.steps8.step0.eta1", "ltx2_scheduler.steps8", 0, 1.0, 1.0, True),
    ("ltx2_scheduler.steps8.step6.eta0.5.snoise0.7", "ltx2_scheduler.steps8", 6, 0.5, 0.7, True),
    ("ltx2_scheduler.steps8.step7.terminal", "ltx2_scheduler.steps8", 7, 0.5, 1.0, True),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens", help="goldens root; writes OUT/steps/")
    ap.add_argument("--seed", type=int, default=0, help="shifts the input seed (0 = committed goldens)")
    ap.add_argument("--ltx-core-src", required=True, help="Lightricks/LTX-2 checkout at v1.2.0 (400fd31)")
    args = ap.parse_args()
    out = os.path.join(args.out, "steps")
    os.makedirs(out, exist_ok=True)
    import ltx_core

    g = torch.Generator().manual_seed(11 + 7919 * args.seed)
    t = {f"inputs.{k}": torch.randn(1, 12, 8, generator=g) for k in ("sample", "denoised", "noise")}
    schedules = {
        "distilled_sigmas": torch.tensor(DISTILLED_SIGMA_VALUES, dtype=torch.float32),
        "ltx2_scheduler.steps8": LTX2Scheduler().execute(steps=8),
    }
    t.update({f"inputs.sigmas.{k}": v for k, v in schedules.items()})
    manifest = {
        "family": "steps",
        "seed": args.seed,
        "source": f"ltx_core source tree {os.path.relpath(args.ltx_core_src)} (Lightricks/LTX-2 @ 400fd31)",
        "ltx_core_path": os.path.dirname(ltx_core.__file__),
        "torch": torch.__version__,
        "cases": {},
    }
    for name, schedule, i, eta, s_noise, with_noise in CASES:
        step = EulerAncestralDiffusionStep(eta=eta, s_noise=s_noise)

        def run(dtype: torch.dtype, step=step, schedule=schedule, i=i, with_noise=with_noise) -> torch.Tensor:
            x, den, noise = (t[f"inputs.{k}"].to(dtype) for k in ("sample", "denoised", "noise"))
            return step.step(x, den, schedules[schedule].to(dtype), i, noise=noise if with_noise else None)

        out64, out32 = run(torch.float64), run(torch.float32)
        t[f"outputs.{name}"] = out64.float().contiguous()
        sig = schedules[schedule]
        manifest["cases"][name] = {
            "kind": "euler_ancestral_step",
            "file": "euler_ancestral.safetensors",
            "schedule": schedule,
            "step_index": i,
            "sigma": float(sig[i]),
            "sigma_next": float(sig[i + 1]),
            "eta": eta,
            "s_noise": s_noise,
            "noise": with_noise,
            "f32_vs_f64_max_abs_diff": float((out32.double() - out64).abs().max()),
        }
        print(f"[{name}] sigma {float(sig[i]):.6f} -> {float(sig[i + 1]):.6f} |out|max={float(out64.abs().max()):.4f}")
    save_file(t, os.path.join(out, "euler_ancestral.safetensors"))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"wrote {out} ({size / 1e3:.1f} kB)")


if __name__ == "__main__":
    main()
