"""The pipeline cases of test_sequence_parallel_pipelines.py, run alone (pytest) or as one rank of mlx.launch.

``python sp_pipelines.py MODEL GEMMA IMAGE AUDIO OUT.npz [--low-memory]``: every rank generates every case (the
transformer split over the launch's ranks); rank 0 writes the latents to OUT.npz.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import numpy as np

# 64x320: stage 1 has 2x1x5 = 10 video tokens and stage 2 40, split 4/3/3 and 14/13/13 over 3 ranks.
SUPPORT_FILE = __file__
SIZE = {"height": 64, "width": 320, "num_frames": 9, "seed": 3, "prompt": "a red fox"}


def run_cases(model: str, gemma: str, image: str, audio: str, low_memory: bool = False) -> dict[str, np.ndarray]:
    """{case.video / case.audio: latent} of distilled T2V, a guided dev stage, I2V with a keyframe + A2V
    (``low_memory``: the distilled cases with the transformer's blocks streamed from disk)."""
    import mlx_ltx_pipelines.pipelines as P
    from mlx_ltx_pipelines.stages import AudioConditioningInput, ImageConditioningInput

    first = ImageConditioningInput(image)
    keyframe = first._replace(frame_idx=8, strength=0.7)
    dev = P.TI2VidOneStagePipeline(model, gemma)
    p = dev.params  # the tiny transformer has blocks 0 and 1
    guiders = {
        k: dataclasses.replace(getattr(p, k), stg_blocks=(1,)) for k in ("video_guider_params", "audio_guider_params")
    }
    dev = dev.with_params(dataclasses.replace(p, **guiders))
    distilled = P.DistilledPipeline(model, gemma, low_memory=low_memory)
    cases = {
        "t2v": (distilled, {}),
        "dev": (dev, {"num_inference_steps": 2}),
        # I2V (first frame + an appended keyframe) and A2V in one generation: one run less.
        "i2v_a2v": (distilled, {"images": [first, keyframe], "audio": AudioConditioningInput(audio)}),
    }
    if low_memory:
        del cases["dev"]
    out: dict[str, np.ndarray] = {}
    for name, (pipeline, extra) in cases.items():
        start = time.perf_counter()
        result = pipeline(**SIZE, **extra)
        if os.environ.get("SP_TIMES"):
            print(name, f"{time.perf_counter() - start:.1f} s", flush=True)
        out[f"{name}.video"] = np.array(result.video_latent)
        if result.audio_latent is not None:
            out[f"{name}.audio"] = np.array(result.audio_latent)
    return out


def main(argv: list[str]) -> int:
    import mlx.core as mx

    latents, world = run_cases(*argv[:4], low_memory=argv[5:] == ["--low-memory"]), mx.distributed.init()
    if world.rank() == 0:
        np.savez(argv[4], ranks=np.array(world.size()), **latents)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
