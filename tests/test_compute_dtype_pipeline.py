"""The opt-in float16 compute mode end to end on the tiny model: ``compute_dtype=mx.float16`` (``ltx generate
--dtype float16``) loads the transformer, video VAE and upscaler in float16 and leaves the text encoder and the
audio models as converted; a distilled T2V run gives finite latents and a uint8 video."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten

import mlx_ltx_pipelines.pipelines as P


def _float_dtypes(model) -> set:
    return {v.dtype for _, v in tree_flatten(model.parameters()) if mx.issubdtype(v.dtype, mx.floating)}


def test_float16_compute_mode(tiny) -> None:
    pipeline = P.DistilledPipeline(tiny[0], tiny[1], compute_dtype=mx.float16)
    ledger = pipeline.ledger
    for component in (ledger.transformer(), ledger.video_decoder(), ledger.video_encoder(), ledger.spatial_upsampler()):
        assert _float_dtypes(component) == {mx.float16}
    as_converted = P.DistilledPipeline(tiny[0], tiny[1]).ledger
    assert _float_dtypes(ledger.audio_decoder()) == _float_dtypes(as_converted.audio_decoder())
    assert _float_dtypes(ledger.with_loras([]).transformer()) == {mx.float16}  # stage 2's ledger keeps it
    result = pipeline(prompt="a red fox", seed=3, height=128, width=192, num_frames=9)
    assert np.isfinite(np.array(result.video_latent)).all()
    frames = np.concatenate(list(result.video_chunks()))
    assert frames.shape == (9, 128, 192, 3) and frames.dtype == np.uint8


def test_lora_mode_reaches_the_transformer(tiny) -> None:
    """``lora_mode="unfused"`` on the pipeline: the transformer's LoRA layers carry adapters, in stage 2 too."""
    from mlx_ltx_core.model.transformer.lora_linear import UnfusedLoRALinear
    from mlx_ltx_pipelines import load_lora
    from mlx_ltx_pipelines.errors import ParameterError

    lora = load_lora(next((tiny[0] / "loras").iterdir()), 0.5)
    pipeline = P.DistilledPipeline(tiny[0], tiny[1], loras=[lora], lora_mode="unfused")
    for ledger in (pipeline.ledger, pipeline.ledger.with_loras([lora])):
        adapted = [m for m in ledger.transformer().modules() if isinstance(m, UnfusedLoRALinear)]
        assert len(adapted) == len(lora.factors)
    with pytest.raises(ParameterError, match="lora_mode='merge'") as refused:
        P.DistilledPipeline(tiny[0], tiny[1], lora_mode="merge")
    assert refused.value.parameter == "lora_mode"
