"""Transformer parity against the reference's float64 goldens, every case of the manifest (LTX_GOLDENS).

float32: outputs and every intermediate within 1e-3·max|ref|; bfloat16: outputs within 3e-2·max|ref|.
The goldens come from Lightricks v1.2.0 (A/V cross-attention AdaLN semantics), see tools/parity.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

import transformer_goldens as tg
from ltx_testing import assert_parity, group, load, manifest

CASES = manifest(tg.FAMILY)["cases"]
IDS = [f"{c['config']}-{c['case']}" for c in CASES]
F32_REL, BF16_REL = 1e-3, 3e-2
# Additive masks hold ±max-float entries: compare which entries are masked, then the finite biases.
MASKED = -1e30


def _run(case: dict, dtype: mx.Dtype, intermediates: dict | None = None) -> dict[str, mx.array]:
    model = tg.build(case, dtype)
    video, audio = tg.modalities(case, dtype)
    vx, ax = model(video, audio, tg.perturbations(case, model.args.num_layers), intermediates=intermediates)
    out = {"video.velocity": vx, "audio.velocity": ax}
    return {k: v for k, v in out.items() if v is not None}


def _np(x: mx.array) -> np.ndarray:
    return np.array(x.astype(mx.float32) if x.dtype == mx.bfloat16 else x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_outputs_and_intermediates(case: dict) -> None:
    golden = load(tg.FAMILY, case["file"])
    ours: dict[str, mx.array] = {}
    out = _run(case, mx.float32, ours)
    ref_out, ref_inter = group(golden, "outputs_f64"), group(golden, "intermediates")
    assert sorted(out) == sorted(ref_out)
    for name, value in out.items():
        assert_parity(_np(value), ref_out[name], F32_REL, f"{name}")
    missing = sorted(set(ref_inter) - set(ours))
    assert not missing, f"intermediates not produced: {missing}"
    for name, ref in ref_inter.items():
        if name.endswith("_mask"):
            _assert_mask_equal(_np(ours[name]), ref, name)
        else:
            assert_parity(_np(ours[name]), ref, F32_REL, name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_denoised_is_latent_minus_velocity_times_timesteps(case: dict) -> None:
    """X0Model on the same inputs: ``latent − v·timesteps`` per token, against the float64 velocity."""
    from mlx_ltx_core.model.transformer import X0Model

    model = X0Model(tg.build(case))
    video, audio = tg.modalities(case)
    den_v, den_a = model(video, audio, tg.perturbations(case, model.velocity_model.args.num_layers))
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")
    inputs = group(load(tg.FAMILY, case["file"]), "inputs")
    for name, den in (("video", den_v), ("audio", den_a)):
        if den is None:
            continue
        expected = inputs[f"{name}.latent"] - ref[f"{name}.velocity"] * inputs[f"{name}.timesteps"]
        assert_parity(_np(den), expected, F32_REL, f"{name}.denoised")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bfloat16_outputs(case: dict) -> None:
    out = _run(case, mx.bfloat16)
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")
    for name, value in out.items():
        assert value.dtype == mx.bfloat16
        assert_parity(_np(value), ref[name], BF16_REL, f"{name} (bf16)")


@pytest.mark.parametrize("case", [c for c in CASES if c["case"] == "audio_only_call"], ids=lambda c: c["config"])
def test_audio_only_model_matches_av_model_without_video(case: dict) -> None:
    """The AudioOnly form, loaded with only the audio keys of the same checkpoint, is the AV model's audio path."""
    model = tg.build(case, model_type_name="AudioOnly")
    assert "patchify_proj" not in model and "audio_patchify_proj" in model
    _, audio = tg.modalities(case)
    _, ax = model(None, audio)
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")
    assert_parity(_np(ax), ref["audio.velocity"], F32_REL, "audio.velocity (AudioOnly)")
    with pytest.raises(ValueError, match="no video stream"):
        model(audio, audio)


def _assert_mask_equal(ours: np.ndarray, ref: np.ndarray, name: str) -> None:
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != {ref.shape}"
    np.testing.assert_array_equal(ours <= MASKED, ref <= MASKED, err_msg=f"{name}: masked entries differ")
    finite = ref > MASKED
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=0, atol=1e-6, err_msg=name)
