"""The whole tiny pipeline, stage by stage: seconds and peak memory per stage (text, stage 1, upsample, stage 2,
audio, decode, mux), for each pipeline. Uses the tiny random model (built once into $LTX_CACHE).

    python benchmarks/pipeline_stages.py [--pipelines distilled,dev,dev-two-stage]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import mlx.core as mx


class StageTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self._start: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage not in self._start:
            self._start[stage] = now
            mx.reset_peak_memory()
        self.seconds[stage] = now - self._start[stage]
        self.peak[stage] = max(self.peak.get(stage, 0.0), mx.get_peak_memory() / 1e6)


def main() -> None:
    import mlx_ltx_pipelines.pipelines as P
    from mlx_ltx_cli.tiny import tiny_model
    from mlx_ltx_pipelines.lora import load_lora
    from mlx_ltx_pipelines.request import GenerationRequest

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipelines", default="distilled,dev,dev-two-stage")
    args = ap.parse_args()
    model, gemma = tiny_model()
    lora = load_lora(next((model / "loras").iterdir()))
    results = {}
    for name in args.pipelines.split(","):
        cls = P.BY_NAME[name]
        pipeline = cls(model, gemma, **({"distilled_lora": lora} if cls.needs_distilled_lora else {}))
        for attr in ("video_guider_params", "audio_guider_params"):  # the tiny transformer has 2 blocks
            params = dataclasses.replace(getattr(pipeline.params, attr), stg_blocks=(1,))
            pipeline.params = dataclasses.replace(pipeline.params, **{attr: params})
        timer = StageTimer()
        steps = 4 if cls.guided else None
        request = GenerationRequest("a test", seed=1, height=128, width=192, num_frames=17, num_inference_steps=steps)
        result = pipeline(request, progress=timer)
        with tempfile.TemporaryDirectory() as tmp:
            result.save(Path(tmp) / "out.mp4", progress=timer)
        results[name] = {"seconds": timer.seconds, "peak_mb": timer.peak}
        print(f"\n{name}")
        print(f"{'stage':<10}{'seconds':>9}{'peak MB':>10}")
        for stage, seconds in timer.seconds.items():
            print(f"{stage:<10}{seconds:>9.2f}{timer.peak[stage]:>10.1f}")
    print(json.dumps({"benchmark": "pipeline_stages", "results": results}))


if __name__ == "__main__":
    main()
