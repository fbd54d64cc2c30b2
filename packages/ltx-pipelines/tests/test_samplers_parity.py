"""Schedules, single Euler / res_2s steps and every guider against the reference (goldens_pipelines.py)."""

from __future__ import annotations

import re

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import (
    CFGGuider,
    CFGStarRescalingGuider,
    EulerDiffusionStep,
    LegacyStatefulAPGGuider,
    LinearQuadraticScheduler,
    LTX2Scheduler,
    LtxAPGGuider,
    MultiModalGuider,
    MultiModalGuiderFactory,
    MultiModalGuiderParams,
    Res2sDiffusionStep,
    STGGuider,
    distilled_sigmas,
    get_res2s_coefficients,
    stage_2_distilled_sigmas,
)
from mlx_ltx_pipelines.res2s import normalize_sde_noise

from ltx_testing import assert_parity
from pipelines_goldens import case, cases, tensors

STEP_TOL = 1e-6


def _schedule(key: str) -> mx.array:
    """Rebuild the schedule a golden key names (e.g. ``ltx2_scheduler.tokens6144.steps15``)."""
    if key == "distilled_sigmas":
        return distilled_sigmas()
    if key == "stage2_distilled_sigmas":
        return stage_2_distilled_sigmas()
    steps = int(re.search(r"steps(\d+)$", key).group(1))
    if key.startswith("linear_quadratic"):
        return LinearQuadraticScheduler().execute(steps)
    variant = re.match(r"ltx2_scheduler\.(.+)\.steps\d+$", key).group(1)
    if variant == "default_tokens":
        return LTX2Scheduler().execute(steps)
    if variant.startswith("tokens"):
        return LTX2Scheduler().execute(steps, num_tokens=int(variant[len("tokens") :]))
    if variant == "nostretch":
        return LTX2Scheduler().execute(steps, stretch=False)
    if variant.startswith("terminal"):
        return LTX2Scheduler().execute(steps, terminal=float(variant[len("terminal") :]))
    raise AssertionError(f"unknown schedule {key}")


@pytest.mark.parametrize("name", cases("schedules"))
def test_schedules_match_reference_exactly(name: str) -> None:
    t = tensors(name)
    for key in case(name)["keys"]:
        ours = np.array(_schedule(key))
        assert ours.dtype == np.float32, key
        np.testing.assert_array_equal(ours, t[key], err_msg=key)  # bit-exact (1-step LTX2 relies on it)


@pytest.mark.parametrize("name", cases("steps"))
def test_single_steps_match_reference(name: str) -> None:
    t = tensors(name)
    x, den, noise = (mx.array(t[f"step.{k}"]) for k in ("sample", "denoised", "noise"))
    sig = distilled_sigmas()
    assert_parity(EulerDiffusionStep().step(x, den, sig, 2), t["euler.out_step2"], STEP_TOL, "euler step 2")
    assert_parity(EulerDiffusionStep().step(x, den, sig, 6), t["euler.out_step6"], STEP_TOL, "euler step 6")
    res2s = Res2sDiffusionStep()
    assert_parity(res2s.step(x, den, sig, 2, noise), t["res2s_step.out_step2"], STEP_TOL, "res2s step")
    assert_parity(res2s.step(x, den, sig, 2, noise, eta=0.8), t["res2s_step.out_step2_eta0.8"], STEP_TOL, "eta 0.8")
    assert_parity(res2s.step(x, den, sig, 7, noise), t["res2s_step.out_step7"], STEP_TOL, "res2s to sigma 0")
    sde = [
        [float(c) for c in Res2sDiffusionStep.get_sde_coeff(np.float64(s), np.float64(s) * 0.5)]
        for s in case(name)["sde_coeff_sigmas"]
    ]
    assert_parity(np.array(sde), t["res2s.sde_coeff"], STEP_TOL, "sde coefficients")
    coeffs = [get_res2s_coefficients(h) for h in t["res2s.h.hq15"][:-1]]
    assert_parity(np.array(coeffs), t["res2s.coeffs_a21_b1_b2.hq15"], 1e-12, "res2s coefficients")
    with mx.stream(mx.cpu):
        normalized = normalize_sde_noise(mx.array(t["res2s_noise.raw"], dtype=mx.float64))
    assert_parity(normalized, t["res2s_noise.normalized"], 1e-12, "sde noise normalisation")


def test_res2s_coefficients_from_our_schedule() -> None:
    """The HQ schedule's step sizes h (with the 0.0011 final sigma) equal the reference's."""
    t = tensors(cases("steps")[0])
    s = np.array(LTX2Scheduler().execute(15, num_tokens=6144)).astype(np.float64)
    s = np.concatenate([s[:-1], [np.float32(0.0011), 0.0]])
    with np.errstate(divide="ignore"):  # the last h is inf (0.0011 → 0), as in the reference
        np.testing.assert_allclose(-np.log(s[1:] / s[:-1]), t["res2s.h.hq15"], rtol=1e-7)


@pytest.mark.parametrize("name", cases("guiders"))
def test_guiders_match_reference(name: str) -> None:
    t, info = tensors(name), case(name)
    cond, unc, ptb, mod = (
        mx.array(t[f"guider.{k}"]) for k in ("cond", "uncond_text", "uncond_perturbed", "uncond_modality")
    )
    for key, spec in info["multimodal"].items():
        guider = MultiModalGuider(MultiModalGuiderParams(**spec["params"]))
        out = guider.calculate(cond, unc, ptb if spec["with_perturbed"] else 0.0, mod)
        assert_parity(out, t[f"guider.{key}"], STEP_TOL, key)
    assert_parity(CFGGuider(3.0).delta(cond, unc), t["guider.cfg3_delta"], STEP_TOL, "cfg")
    assert_parity(CFGStarRescalingGuider(3.0).delta(cond, unc), t["guider.cfgstar3_delta"], STEP_TOL, "cfg*")
    assert_parity(STGGuider(1.0).delta(cond, ptb), t["guider.stg1_delta"], STEP_TOL, "stg")
    apg = LtxAPGGuider(3.0, eta=0.5, norm_threshold=2.0).delta(cond, unc)
    assert_parity(apg, t["guider.apg3_eta0.5_thr2_delta"], STEP_TOL, "apg")
    assert_parity(LtxAPGGuider(3.0).delta(cond, unc), t["guider.apg3_eta1_thr0_delta"], STEP_TOL, "apg plain")
    legacy = LegacyStatefulAPGGuider(**info["legacy_apg"])
    assert_parity(legacy.delta(cond, unc), t["guider.legacy_apg_call1"], STEP_TOL, "legacy apg 1")
    assert_parity(legacy.delta(unc, mod), t["guider.legacy_apg_call2"], STEP_TOL, "legacy apg 2 (momentum)")
    bins = {float(k): MultiModalGuiderParams(cfg_scale=v) for k, v in info["factory_bins"].items()}
    factory = MultiModalGuiderFactory.from_dict(bins)
    assert {s: factory.params(float(s)).cfg_scale for s in info["factory_probe"]} == info["factory_probe"]


def test_guider_passes_and_params_checks() -> None:
    g = MultiModalGuider(MultiModalGuiderParams(cfg_scale=3.0, stg_scale=0.0, modality_scale=1.0, skip_step=1))
    assert g.do_unconditional_generation() and not g.do_perturbed_generation()
    assert not g.do_isolated_modality_generation()
    assert [g.should_skip_step(i) for i in range(4)] == [False, True, False, True]
    with pytest.raises(ValueError, match=r"rescale_scale=1.5 must be in \[0, 1\]"):
        MultiModalGuiderParams(rescale_scale=1.5)
    with pytest.raises(ValueError, match=r"skip_step=-1"):
        MultiModalGuiderParams(skip_step=-1)
    with pytest.raises(ValueError, match=r"stg_blocks=\[-2\]"):
        MultiModalGuiderParams(stg_blocks=[-2])
    assert MultiModalGuiderParams(stg_blocks=[28]).stg_blocks == (28,)
    with pytest.raises(ValueError, match="sigma_to_params is empty"):
        MultiModalGuiderFactory.from_dict({})


def test_scheduler_rejects_bad_steps() -> None:
    with pytest.raises(ValueError, match="steps=0 must be a positive integer"):
        LTX2Scheduler().execute(0)
    with pytest.raises(ValueError, match=r"steps=2\.5 must be a positive integer"):
        LinearQuadraticScheduler().execute(2.5)
