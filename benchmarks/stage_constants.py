"""Per-stage constants: the transformer's per-step preprocessing with and without ``stage_constants()``.

A denoising stage passes the same positions, contexts and masks at every step; inside ``stage_constants()`` the
RoPE tables, the projected context (LTX-2's caption projection) and the attention biases are computed at the
first step only. This times the preprocessing of one step (both modalities, evaluated) and a whole step (a
forward through ``--layers`` blocks) for the guided batch of ``--passes`` samples, plain and staged, and prints
the share of a 48-layer step the saving represents. Real head geometry, random weights.

    python benchmarks/stage_constants.py [--version 2 | 2.3] [--layers 1] [--passes 3] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext
from dataclasses import replace

import mlx.core as mx
from transformer_forward import add_geometry_arguments, config, inputs

from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, Modality


def stacked(m: Modality, passes: int) -> Modality:
    """The guided batch: ``passes`` copies, as the denoiser stacks them once per stage."""
    fields = ("latent", "sigma", "timesteps", "positions", "context")
    return replace(m, **{f: mx.concatenate([getattr(m, f)] * passes) for f in fields})


def steps(video: Modality, audio: Modality, n: int) -> list[tuple[Modality, Modality]]:
    """``n`` steps of a stage: new latents and sigmas, the same positions / context arrays."""
    out = []
    for i in range(n):
        s = 0.9 - 0.2 * i
        out.append(
            tuple(replace(m, latent=m.latent * s, sigma=m.sigma * s, timesteps=m.timesteps * s) for m in (video, audio))
        )
    return out


def per_step(fn, model: LTXModel, stage_steps: list, staged: bool) -> list[float]:
    times = []
    with model.stage_constants() if staged else nullcontext():
        for video, audio in stage_steps:
            start = time.perf_counter()
            mx.eval(fn(video, audio))
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_geometry_arguments(ap, layers=1)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    model = LTXModel(LTXModelArgs.from_dict(config(args)))
    mx.eval(model.parameters())
    video, audio = (stacked(m, args.passes) for m in inputs(model, args, mx.float32))
    mx.eval(video, audio)
    stage = steps(video, audio, args.steps)

    def prepare(v: Modality, a: Modality):
        return [t.__dict__ for t in (model._prepare("", v, a), model._prepare("audio_", a, v))]

    rows = {}
    for name, fn in (("preprocessing", prepare), ("step", model)):
        per_step(fn, model, stage[:1], False)  # warm-up
        plain, staged = per_step(fn, model, stage, False), per_step(fn, model, stage, True)
        rows[name] = {"plain_s": sum(plain[1:]) / (len(plain) - 1), "staged_s": sum(staged[1:]) / (len(staged) - 1)}
    saving = rows["preprocessing"]["plain_s"] - rows["preprocessing"]["staged_s"]
    per_layer = (rows["step"]["plain_s"] - rows["preprocessing"]["plain_s"]) / args.layers
    share = saving / (48 * per_layer + rows["preprocessing"]["plain_s"])
    print(f"LTX-{args.version}, {args.passes} passes × ({args.video_tokens} video + {args.audio_tokens} audio tokens), "
          f"{args.text_tokens} text tokens; mean of steps 2..{args.steps}")  # fmt: skip
    print(f"{'':>14} {'plain s':>9} {'staged s':>9} {'ratio':>6}")
    for name, r in rows.items():
        print(f"{name:>14} {r['plain_s']:>9.4f} {r['staged_s']:>9.4f} {r['plain_s'] / r['staged_s']:>6.2f}")
    print(f"saving per step: {saving * 1e3:.1f} ms = {share:.2%} of a 48-layer step")
    print(json.dumps({"benchmark": "stage_constants", "version": args.version, "layers": args.layers,
                      "passes": args.passes, **rows, "share_of_48_layer_step": share}))  # fmt: skip


if __name__ == "__main__":
    main()
