"""Sampler overhead: seconds per step the denoising loops spend outside the transformer (state updates, guidance
arithmetic, res_2s float64 math with its 100 "bongmath" iterations), at real latent sizes.

The transformer is replaced by a fixed x0 predictor (``0.9 · latent``) so only the loop's own work is timed; add
these numbers to a transformer_forward.py step to estimate a whole step. Absolute CPU times say nothing about a
Mac: compare ratios between runs, options and commits.

    python benchmarks/sampler_overhead.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

import mlx.core as mx

from mlx_ltx_pipelines import (
    AudioLatentShape,
    AudioLatentTools,
    AudioPatchifier,
    EulerDiffusionStep,
    GaussianNoiser,
    LoopStep,
    LTX2Scheduler,
    MultiModalGuider,
    MultiModalGuiderParams,
    Res2sDiffusionStep,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    create_noised_state,
    euler_denoising_loop,
    res2s_audio_video_denoising_loop,
    run_loop,
)

SIZES = {  # name: (frames, height, width) of the stage
    "512x768x121 (6144 tok)": (121, 512, 768),
    "HQ 544x960x121 (8160 tok)": (121, 544, 960),
}


class FixedPrediction:
    """A denoiser whose x0 is 0.9·latent (no transformer); guided: four such passes combined by the guiders."""

    def __init__(self, guided: bool):
        params = MultiModalGuiderParams(cfg_scale=3.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=3.0)
        self.guider = MultiModalGuider(params) if guided else None

    def __call__(self, transformer, video_state, audio_state, sigmas, step_index):
        out = []
        for state in (video_state, audio_state):
            x0 = state.latent * 0.9
            if self.guider is not None:
                x0 = self.guider.calculate(x0, x0 * 0.8, x0 * 0.7, x0 * 0.6)
            out.append(x0)
        return tuple(out)


def states(frames: int, height: int, width: int, dtype: mx.Dtype) -> tuple:
    pixels = VideoPixelShape(1, frames, height, width, 24.0)
    vt = VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape.from_pixel_shape(pixels), 24.0)
    at = AudioLatentTools(AudioPatchifier(1), AudioLatentShape.from_video_pixel_shape(pixels))
    noiser = GaussianNoiser(0)
    return create_noised_state(vt, [], noiser, dtype), create_noised_state(at, [], noiser, dtype)


LOOPS = ("euler", "euler + guidance", "res_2s")


def make_loop(kind: str, vs: object, as_: object, sigmas: mx.array) -> Iterator[LoopStep]:
    if kind == "res_2s":
        return res2s_audio_video_denoising_loop(
            sigmas, vs, as_, Res2sDiffusionStep(), None, FixedPrediction(False), noise_seed=0
        )
    return euler_denoising_loop(sigmas, vs, as_, EulerDiffusionStep(), None, FixedPrediction(kind != "euler"))


def seconds_per_step(kind: str, vs: object, as_: object, sigmas: mx.array, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        loop = make_loop(kind, vs, as_, sigmas)
        start = time.perf_counter()
        steps = []
        run_loop(loop, steps.append)
        best = min(best, (time.perf_counter() - start) / len(steps))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    args = ap.parse_args()
    dtype = getattr(mx, args.dtype)
    rows = []
    for name, shape in SIZES.items():
        vs, as_ = states(*shape, dtype)
        sig = LTX2Scheduler().execute(4)
        for loop in LOOPS:
            rows.append({"size": name, "loop": loop, "s_per_step": seconds_per_step(loop, vs, as_, sig, args.repeat)})
    print(f"| size | loop | s/step outside the model ({args.dtype} states) |")
    print("| --- | --- | --- |")
    for r in rows:
        print(f"| {r['size']} | {r['loop']} | {r['s_per_step']:.3f} |")
    print(json.dumps({"benchmark": "sampler_overhead", "dtype": args.dtype, "rows": rows}))


if __name__ == "__main__":
    main()
