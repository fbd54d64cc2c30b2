"""Low-memory pipelines on the tiny model (Lightricks checkpoint → ltx-convert): the transformer's blocks read from
the folder a group at a time give the resident pipelines' latents bit for bit — T2V, I2V, a LoRA fused per group,
a quantized folder — and a LoRA that does not fit is refused before any block is read."""

from __future__ import annotations

import dataclasses
import shutil

import mlx.core as mx
import numpy as np
import pytest

import mlx_ltx_pipelines.pipelines as P
from mlx_ltx_core.model.transformer import load_transformer, quantize_transformer, save_transformer
from mlx_ltx_core.model.transformer.streaming import BlockStream
from mlx_ltx_pipelines.lora import LoRA, load_lora
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.stages import ImageConditioningInput

SIZE = {"height": 128, "width": 192, "num_frames": 9}


def _latents(pipeline, **call) -> list[np.ndarray]:
    result = pipeline(prompt="a red fox", seed=3, **SIZE, **call)
    return [np.array(x) for x in (result.video_latent, result.audio_latent) if x is not None]


def _pipeline(cls, model, gemma, **init):
    pipeline = cls(model, gemma, **init)
    p = pipeline.params  # the tiny transformer has blocks 0 and 1
    stg = {
        a: dataclasses.replace(getattr(p, a), stg_blocks=(1,)) for a in ("video_guider_params", "audio_guider_params")
    }
    return pipeline.with_params(dataclasses.replace(p, **stg))


def _same(cls, model, gemma, call=None, **init) -> None:
    resident = _latents(_pipeline(cls, model, gemma, **init), **(call or {}))
    streamed = _latents(_pipeline(cls, model, gemma, low_memory=True, **init), **(call or {}))
    assert len(resident) == len(streamed) == 2
    for r, s in zip(resident, streamed, strict=True):
        np.testing.assert_array_equal(r, s)


def _distilled_lora(model) -> LoRA:
    return load_lora(next((model / "loras").iterdir()), 1.0)


def test_the_ledger_streams_and_keeps_the_mode_across_stages(tiny) -> None:
    ledger = ModelLedger(tiny[0], low_memory=True)
    assert isinstance(ledger.transformer().block_stream, BlockStream)
    stage_2 = ledger.with_loras([_distilled_lora(tiny[0])])
    assert stage_2.low_memory and isinstance(stage_2.transformer().block_stream, BlockStream)
    assert ModelLedger(tiny[0]).transformer().block_stream is None


def test_t2v_and_i2v_latents_are_bit_identical(tiny, media) -> None:
    _same(P.DistilledPipeline, *tiny)
    _same(P.DistilledPipeline, *tiny, {"images": [ImageConditioningInput(str(media["image"]))]})


def test_a_lora_fused_per_group_is_bit_identical(tiny) -> None:
    """dev-two-stage: stage 1 without the distilled LoRA, stage 2 with it fused into each group as it is read."""
    _same(P.TI2VidTwoStagesPipeline, *tiny, {"num_inference_steps": 2}, distilled_lora=_distilled_lora(tiny[0]))


@pytest.fixture(scope="module")
def quantized(tiny, tmp_path_factory) -> object:
    """The tiny model folder with its transformer quantized to 8 bits (group size 32)."""
    root = tmp_path_factory.mktemp("quantized") / "model"
    shutil.copytree(tiny[0], root)
    folder = next(p for p in root.iterdir() if (p / "config.json").exists() and p.name.startswith("transformer"))
    config = ModelLedger(tiny[0]).component("transformer").config
    model = load_transformer(folder)
    recipe = quantize_transformer(model, 8, group_size=32)
    save_transformer(folder, model, config, quantization=recipe, model_version="tiny", overwrite=True)
    return root


def test_a_quantized_folder_with_a_lora_is_bit_identical(quantized, tiny) -> None:
    assert ModelLedger(quantized).component("transformer").quantization is not None
    _same(P.DistilledPipeline, quantized, tiny[1], loras=[_distilled_lora(tiny[0])])


def test_a_lora_for_another_model_is_refused_at_load(tiny) -> None:
    lora = _distilled_lora(tiny[0])
    module, (a, b) = next(iter(lora.factors.items()))
    wrong = LoRA("wrong.safetensors", 1.0, {module: (mx.concatenate([a, a], axis=1), b)})
    with pytest.raises(ValueError, match=r"wrong\.safetensors: .* do not fit .*: the LoRA is for another model"):
        ModelLedger(tiny[0], loras=[wrong], low_memory=True).transformer()
