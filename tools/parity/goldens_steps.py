#!/usr/bin/env python
"""Goldens for the ancestral Euler sampler of Lightricks v1.2.0 (PyPI ltx-core 1.0.0 has none): single
``EulerAncestralDiffusionStep`` steps, and one whole ``euler_ancestral_denoising_loop``.

Steps: the official step runs on small random float32 sample / x0 / noise tensors over two reference schedules
(``LTX2Scheduler().execute(8)`` and the distilled sigmas) for a few (eta, s_noise, step) cases: mid steps, the
first step from sigma 1, eta 0 without noise, and the terminal zero-sigma step. Each case runs on the float32
inputs and on float64 copies: the reference casts sigmas and tensors to float32 inside the step, so both give the
same values (the manifest's f32-vs-f64 gap is 0) and the output is stored, losslessly, as float32.

Loop: the official loop over ``LTX2Scheduler().execute(4)`` (model_dtype float32) with a toy denoiser
(x0 = 0.8·x − 0.1), a video state (1, 10, 8) whose first tokens are conditioned (mask 0, 0, 0.5) and an audio
state (1, 6, 4); the torch draws it makes (video then audio, per non-terminal step) are recorded so that the MLX
loop, whose RNG cannot reproduce torch's, can replay them.

Usage: python goldens_steps.py --out DIR --seed N --ltx-core-src CHECKOUT   (CHECKOUT: Lightricks/LTX-2 @ 400fd31)
Writes DIR/steps/euler_ancestral.safetensors (``inputs.{sample,denoised,noise}`` (1, 12, 8),
``inputs.sigmas.<schedule>``, ``outputs.<case>``; ``<loop>.{video,audio}.{latent,denoise_mask,clean_latent,final}``,
``<loop>.noise.NN``) and DIR/steps/manifest.json (per case: kind, schedule, step_index, eta, s_noise, noise).
"""

from __future__ import annotations

import argparse
import os
import sys

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        sys.path.insert(0, os.path.join(_src, "packages", "ltx-pipelines", "src"))
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from _manifest import write_json_manifest
from ltx_core.components.schedulers import LTX2Scheduler
from safetensors.torch import save_file

try:
    from ltx_core.components.diffusion_steps import EulerAncestralDiffusionStep
    from ltx_core.types import LatentState
    from ltx_pipelines.utils import samplers as SM
    from ltx_pipelines.utils.constants import DISTILLED_SIGMA_VALUES
    from ltx_pipelines.utils.types import DenoisedLatentResult
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
# A whole loop (case, eta, s_noise) over LTX2Scheduler().execute(4), which ends at 0 (the terminal short-circuit).
LOOP_CASES = [("loop.eta0.5.snoise0.7", 0.5, 0.7)]
LOOP_SCHEDULE = "ltx2_scheduler.steps4"
FILE = "euler_ancestral.safetensors"


def run_steps(t: dict[str, torch.Tensor], schedules: dict[str, torch.Tensor], manifest: dict) -> None:
    """The single-step cases on shared (1, 12, 8) sample / x0 / noise inputs."""
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
            "file": FILE,
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


def toy_denoiser(transformer, video, audio, sigmas, step_index):
    """x0 = 0.8·x − 0.1: a deterministic stand-in for the model (the test uses the same one)."""
    return tuple(None if s is None else DenoisedLatentResult(0.8 * s.latent - 0.1) for s in (video, audio))


def loop_state(g: torch.Generator, tokens: int, channels: int, mask: list[float]) -> LatentState:
    """Tokens whose mask is below 1 are (partly) conditioned: their clean latent is non-zero."""
    m = torch.tensor(mask + [1.0] * (tokens - len(mask))).reshape(1, tokens, 1)
    clean = torch.randn(1, tokens, channels, generator=g) * (1 - m)
    return LatentState(torch.randn(1, tokens, channels, generator=g), m, torch.zeros(1, 3, tokens, 2), clean)


def run_loops(t: dict[str, torch.Tensor], schedules: dict[str, torch.Tensor], manifest: dict, seed: int) -> None:
    """The official loop with the toy denoiser, video (1, 10, 8) + audio (1, 6, 4), its seeded draws recorded."""
    for name, eta, s_noise in LOOP_CASES:
        g = torch.Generator().manual_seed(23 + 7919 * seed)
        video, audio = loop_state(g, 10, 8, [0.0, 0.0, 0.5]), loop_state(g, 6, 4, [])
        draws: list[torch.Tensor] = []

        def noise_fn(x: torch.Tensor, gen: torch.Generator, draws=draws) -> torch.Tensor:
            draws.append(torch.randn(x.shape, generator=gen, dtype=x.dtype))
            return draws[-1]

        v, a = SM.euler_ancestral_denoising_loop(
            schedules[LOOP_SCHEDULE],
            video,
            audio,
            EulerAncestralDiffusionStep(eta=eta, s_noise=s_noise),
            None,
            toy_denoiser,
            noise_seed=5 + seed,
            new_noise_fn=noise_fn,
            model_dtype=torch.float32,
        )
        for m, st, final in (("video", video, v), ("audio", audio, a)):
            t.update({f"{name}.{m}.{k}": getattr(st, k) for k in ("latent", "denoise_mask", "clean_latent")})
            t[f"{name}.{m}.final"] = final.latent
        t.update({f"{name}.noise.{k:02d}": d for k, d in enumerate(draws)})
        manifest["cases"][name] = {
            "kind": "euler_ancestral_loop",
            "file": FILE,
            "schedule": LOOP_SCHEDULE,
            "eta": eta,
            "s_noise": s_noise,
            "num_noise_draws": len(draws),
            "denoiser": "x0 = 0.8 * latent - 0.1",
        }
        print(f"[{name}] {len(draws)} draws, |video|max={float(v.latent.abs().max()):.4f}")


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
        LOOP_SCHEDULE: LTX2Scheduler().execute(steps=4),
    }
    t.update({f"inputs.sigmas.{k}": v for k, v in schedules.items()})
    manifest = {
        "family": "steps",
        "seed": args.seed,
        "source": f"ltx_core + ltx_pipelines source tree {os.path.relpath(args.ltx_core_src)} (Lightricks/LTX-2 @ 400fd31)",
        "ltx_core_path": os.path.dirname(ltx_core.__file__),
        "torch": torch.__version__,
        "cases": {},
    }
    run_steps(t, schedules, manifest)
    run_loops(t, schedules, manifest, args.seed)
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(out, FILE))
    write_json_manifest(out, manifest)


if __name__ == "__main__":
    main()
