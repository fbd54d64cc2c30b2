"""Every pipeline in process on the tiny model (Lightricks checkpoint → ltx-convert → model folder): output shapes,
bit-identical reruns, and how many transformer evaluations each pipeline makes."""

from __future__ import annotations

import dataclasses
import inspect

import mlx.core as mx
import numpy as np
import pytest

import mlx_ltx_pipelines.pipelines as P
from mlx_ltx_pipelines.lora import load_lora
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.stages import AudioConditioningInput, ImageConditioningInput, VideoConditioningInput

SIZE = {"height": 128, "width": 192, "num_frames": 9}
COMMON = (
    "prompt",
    "seed",
    "height",
    "width",
    "num_frames",
    "frame_rate",
    "images",
    "audio",
    "generate_audio",
    "enhance_prompt",
    "tiling",
    "progress",
)
CLASSES = [
    P.DistilledPipeline,
    P.TI2VidOneStagePipeline,
    P.TI2VidTwoStagesPipeline,
    P.TI2VidTwoStagesHQPipeline,
    P.KeyframeInterpolationPipeline,
    P.ICLoraPipeline,
]


class CountingModel:
    """Wraps the transformer: ``calls`` counts evaluations (samples through it: batched guidance passes count one
    each), ``forwards`` counts forwards."""

    calls = 0
    forwards = 0

    def __init__(self, model):
        self.model, self.args = model, model.args

    def __call__(self, video, audio, *args, **kwargs):
        CountingModel.calls += (video or audio).latent.shape[0]
        CountingModel.forwards += 1
        return self.model(video, audio, *args, **kwargs)

    def stage_constants(self):
        return self.model.stage_constants()


class CountingLedger(ModelLedger):
    def transformer(self):
        return CountingModel(super().transformer())

    def with_loras(self, loras):
        return CountingLedger(self.path, self.text_encoder_path, self.dtype, tuple(loras))


def _pipeline(cls, tiny, **init):
    pipeline = cls(tiny[0], tiny[1], **init)
    pipeline.ledger = CountingLedger(tiny[0], tiny[1], loras=pipeline.ledger.loras)
    for stage in ("stage_1", "stage_2"):
        if hasattr(pipeline, stage):
            setattr(pipeline, stage, CountingLedger(tiny[0], tiny[1], loras=getattr(pipeline, stage).loras))
    for attr in ("video_guider_params", "audio_guider_params"):  # the tiny transformer has blocks 0 and 1
        params = getattr(pipeline.params, attr)
        pipeline.params = dataclasses.replace(pipeline.params, **{attr: dataclasses.replace(params, stg_blocks=(1,))})
    return pipeline


def _distilled_lora(tiny):
    return load_lora(next((tiny[0] / "loras").iterdir()), 1.0)


def _run(pipeline, **call):
    CountingModel.calls = CountingModel.forwards = 0
    result = pipeline(prompt="a red fox", seed=3, **SIZE, **call)
    frames = np.concatenate(list(result.video_chunks()))
    return result, frames, result.audio(), CountingModel.calls


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_argument_names_are_shared(cls) -> None:
    names = set(inspect.signature(cls.__call__).parameters)
    assert set(COMMON) <= names, sorted(set(COMMON) - names)


def test_distilled_t2v_shapes_determinism_and_11_evaluations(tiny) -> None:
    pipeline = _pipeline(P.DistilledPipeline, tiny)
    result, frames, (waveform, rate), calls = _run(pipeline)
    assert frames.shape == (9, 128, 192, 3) and frames.dtype == np.uint8
    assert rate == 48000 and waveform.shape[0] == 2 and waveform.shape[1] > 0
    assert calls == 11  # 8 + 3 distilled steps, no guidance
    again, frames_again, (waveform_again, _), _ = _run(pipeline)
    np.testing.assert_array_equal(np.array(result.video_latent), np.array(again.video_latent))
    np.testing.assert_array_equal(frames, frames_again)
    np.testing.assert_array_equal(waveform, waveform_again)


def test_guided_pipelines_count_four_passes_per_step(tiny) -> None:
    one = _pipeline(P.TI2VidOneStagePipeline, tiny)
    _, frames, _, calls = _run(one, num_inference_steps=3)
    assert frames.shape == (9, 128, 192, 3)  # one stage runs at the requested size
    assert calls == 3 * 4  # cond, uncond (CFG), STG, modality isolation
    assert CountingModel.forwards == 3  # … stacked into one batched forward per step
    two = _pipeline(P.TI2VidTwoStagesPipeline, tiny, distilled_lora=_distilled_lora(tiny))
    _, frames, _, calls = _run(two, num_inference_steps=3)
    assert frames.shape == (9, 128, 192, 3)
    assert calls == 3 * 4 + 3  # guided stage 1, then 3 distilled steps
    hq = _pipeline(P.TI2VidTwoStagesHQPipeline, tiny, distilled_lora=_distilled_lora(tiny))
    _, frames, _, calls = _run(hq, num_inference_steps=2)
    assert frames.shape == (9, 128, 192, 3)
    assert calls == (2 * 2 + 1) * 3 + (3 * 2 + 1)  # res_2s: 2 evaluations a step + a final one; CFG+modality (no STG)


def test_conditioned_pipelines(tiny, media) -> None:
    image = ImageConditioningInput(str(media["image"]))
    i2v = _pipeline(P.DistilledPipeline, tiny)
    _, frames, _, _ = _run(i2v, images=[image])
    assert frames.shape == (9, 128, 192, 3)
    keyframes = _pipeline(P.KeyframeInterpolationPipeline, tiny, distilled_lora=_distilled_lora(tiny))
    _, frames, _, _ = _run(keyframes, images=[image, image._replace(frame_idx=8, strength=0.7)], num_inference_steps=2)
    assert frames.shape == (9, 128, 192, 3)
    a2v = _pipeline(P.DistilledPipeline, tiny)
    result, frames, (waveform, rate), _ = _run(a2v, audio=AudioConditioningInput(str(media["audio"])))
    assert waveform.shape == (2, round(9 / 24 * rate))  # the input audio, cut to the video
    assert result.audio_latent is not None
    silent = _pipeline(P.DistilledPipeline, tiny)
    result, _, audio, _ = _run(silent, generate_audio=False)
    assert audio is None and result.audio_latent is None


def test_ic_lora_with_a_reference_video(tiny, media) -> None:
    lora = load_lora(media["ic_lora"], 1.0)
    pipeline = _pipeline(P.ICLoraPipeline, tiny, loras=[lora])
    assert pipeline.downscale == 2
    CountingModel.calls = 0
    result = pipeline(
        "a red fox", [VideoConditioningInput(str(media["video"]), 1.0)], seed=3, height=256, width=384, num_frames=9
    )
    frames = np.concatenate(list(result.video_chunks()))
    assert frames.shape == (9, 256, 384, 3)
    assert CountingModel.calls == 11
    mx.clear_cache()
