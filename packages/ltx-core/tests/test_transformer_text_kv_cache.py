"""Text cross-attention K/V computed once per prompt in a stage (the stage's ``ConstantsCache``, ``text_kv``).

Over every golden case, float32 and bfloat16, three steps of a stage (new latents and sigma, the same prompt
arrays): the outputs with the K/V cache are bit for bit those without it and those of plain calls. The K/V are
cached exactly where the context does not depend on the step: LTX-2 (no cross-attention AdaLN) and
``use_prompt_adaln_single`` false; LTX-2.3 / 2.5 with the prompt AdaLN modulate the context by σ, so never.
"""

from __future__ import annotations

import dataclasses

import mlx.core as mx
import numpy as np
import pytest

import transformer_goldens as tg
from ltx_testing import manifest

CASES = manifest(tg.FAMILY)["cases"]
IDS = [f"{c['config']}-{c['case']}" for c in CASES]


def _steps(video, audio):
    def move(m, scale):
        if m is None:
            return None
        return dataclasses.replace(m, latent=m.latent * scale, sigma=m.sigma * scale, timesteps=m.timesteps * scale)

    return [(move(video, s), move(audio, s)) for s in (1.0, 0.7, 0.4)]


def _run(model, steps, perturbations, text_kv: bool | None):
    """Each step's outputs (evaluated), in a stage with/without the K/V cache, or plain calls (None)."""
    if text_kv is None:
        return [mx.eval(out := model(v, a, perturbations)) or out for v, a in steps], 0
    with model.stage_constants(text_kv=text_kv) as cache:
        outs = [mx.eval(out := model(v, a, perturbations)) or out for v, a in steps]
        return outs, cache.nbytes("text_kv")


def _cacheable(model) -> bool:
    return not model.args.cross_attention_adaln or not model.args.has_prompt_adaln


@pytest.mark.parametrize("dtype", [mx.float32, mx.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_text_kv_cache_is_bit_identical(case: dict, dtype: mx.Dtype) -> None:
    model = tg.build(case, dtype)
    steps = _steps(*tg.modalities(case, dtype))
    ptb = tg.perturbations(case, model.args.num_layers)
    plain, _ = _run(model, steps, ptb, None)
    uncached, none = _run(model, steps, ptb, False)
    cached, kv_bytes = _run(model, steps, ptb, True)
    assert none == 0
    assert (kv_bytes > 0) == _cacheable(model), kv_bytes
    for outs in (uncached, cached):
        for ours, ref in zip(outs, plain, strict=True):
            for x, y in zip(ours, ref, strict=True):
                assert (x is None) == (y is None)
                if y is not None:
                    assert x.dtype == y.dtype and mx.array_equal(x, y, equal_nan=True)


def test_text_kv_cache_holds_one_kv_per_block_and_stream() -> None:
    case = next(c for c in CASES if c["config"] == "ltx2_av" and c["case"] == "t2v")
    model = tg.build(case)
    video, audio = tg.modalities(case)
    with model.stage_constants() as cache:
        mx.eval(model(video, audio))
        first = cache.nbytes("text_kv")
        mx.eval(model(*_steps(video, audio)[1]))
        assert cache.nbytes("text_kv") == first  # the second step adds nothing
    width = {"": model.args.inner_dim, "audio_": model.args.audio_inner_dim}
    expected = sum(
        2 * m.latent.shape[0] * m.context.shape[1] * width[p] * 4 for p, m in (("", video), ("audio_", audio))
    )
    assert first == model.args.num_layers * expected
    np.testing.assert_equal(model._constants, None)
