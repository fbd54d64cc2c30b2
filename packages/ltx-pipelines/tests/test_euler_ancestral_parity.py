"""The ancestral Euler step against the reference's ``EulerAncestralDiffusionStep`` (tools/parity/goldens_steps.py),
one parametrized case per manifest entry."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import EulerAncestralDiffusionStep, LTX2Scheduler, distilled_sigmas

from ltx_testing import assert_parity, load, manifest

FAMILY = "steps"
STEP_TOL = 1e-6  # as the Euler / res_2s single-step parity (test_samplers_parity.py)
SCHEDULES = {"distilled_sigmas": distilled_sigmas, "ltx2_scheduler.steps8": lambda: LTX2Scheduler().execute(8)}


def _cases() -> list[str]:
    cases = manifest(FAMILY)["cases"]
    return sorted(name for name, info in cases.items() if info["kind"] == "euler_ancestral_step")


@pytest.mark.parametrize("name", _cases())
def test_euler_ancestral_step_matches_reference(name: str) -> None:
    info = manifest(FAMILY)["cases"][name]
    t = load(FAMILY, info["file"])
    sigmas = SCHEDULES[info["schedule"]]()  # our schedule, which must be the reference's bit for bit
    np.testing.assert_array_equal(np.array(sigmas), t[f"inputs.sigmas.{info['schedule']}"])
    x, den, noise = (mx.array(t[f"inputs.{k}"]) for k in ("sample", "denoised", "noise"))
    step = EulerAncestralDiffusionStep(eta=info["eta"], s_noise=info["s_noise"])
    out = step.step(x, den, sigmas, info["step_index"], noise=noise if info["noise"] else None)
    assert out.dtype == mx.float32
    assert_parity(out, t[f"outputs.{name}"], STEP_TOL, name)
