"""The ancestral Euler step against the reference's ``EulerAncestralDiffusionStep``, and its loop against the
reference's ``euler_ancestral_denoising_loop`` with a toy denoiser and the reference's noise draws replayed
(tools/parity/goldens_steps.py); one parametrized case per manifest entry."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import (
    EulerAncestralDiffusionStep,
    LatentState,
    LTX2Scheduler,
    RecordedNoise,
    distilled_sigmas,
    euler_ancestral_denoising_loop,
    run_loop,
)

from ltx_testing import assert_parity, load, manifest

FAMILY = "steps"
STEP_TOL = 1e-6  # as the Euler / res_2s single-step parity (test_samplers_parity.py)
SCHEDULES = {
    "distilled_sigmas": distilled_sigmas,
    "ltx2_scheduler.steps8": lambda: LTX2Scheduler().execute(8),
    "ltx2_scheduler.steps4": lambda: LTX2Scheduler().execute(4),
}


def _cases(kind: str) -> list[str]:
    return sorted(name for name, info in manifest(FAMILY)["cases"].items() if info["kind"] == kind)


def _schedule(info: dict, t: dict[str, np.ndarray]) -> mx.array:
    """Our schedule for the case, which must be the reference's bit for bit."""
    sigmas = SCHEDULES[info["schedule"]]()
    np.testing.assert_array_equal(np.array(sigmas), t[f"inputs.sigmas.{info['schedule']}"])
    return sigmas


def _toy_denoiser(transformer, video, audio, sigmas, step_index):
    """x0 = 0.8·x − 0.1, the generator's stand-in for the model."""
    return tuple(None if s is None else 0.8 * s.latent - 0.1 for s in (video, audio))


@pytest.mark.parametrize("name", _cases("euler_ancestral_step"))
def test_euler_ancestral_step_matches_reference(name: str) -> None:
    info = manifest(FAMILY)["cases"][name]
    t = load(FAMILY, info["file"])
    sigmas = _schedule(info, t)
    x, den, noise = (mx.array(t[f"inputs.{k}"]) for k in ("sample", "denoised", "noise"))
    step = EulerAncestralDiffusionStep(eta=info["eta"], s_noise=info["s_noise"])
    out = step.step(x, den, sigmas, info["step_index"], noise=noise if info["noise"] else None)
    assert out.dtype == mx.float32
    assert_parity(out, t[f"outputs.{name}"], STEP_TOL, name)


@pytest.mark.parametrize("name", _cases("euler_ancestral_loop"))
def test_euler_ancestral_loop_matches_reference_with_its_draws(name: str) -> None:
    info = manifest(FAMILY)["cases"][name]
    t = load(FAMILY, info["file"])
    video, audio = (
        LatentState(
            latent=mx.array(t[f"{name}.{m}.latent"]),
            denoise_mask=mx.array(t[f"{name}.{m}.denoise_mask"]),
            positions=mx.zeros((1, 3, t[f"{name}.{m}.latent"].shape[1], 2)),
            clean_latent=mx.array(t[f"{name}.{m}.clean_latent"]),
        )
        for m in ("video", "audio")
    )
    noise = RecordedNoise([mx.array(t[f"{name}.noise.{k:02d}"]) for k in range(info["num_noise_draws"])])
    stepper = EulerAncestralDiffusionStep(eta=info["eta"], s_noise=info["s_noise"])
    loop = euler_ancestral_denoising_loop(
        _schedule(info, t), video, audio, stepper, None, _toy_denoiser, 0, noise=noise
    )
    got_video, got_audio = run_loop(loop)
    assert noise.used == info["num_noise_draws"]  # one draw per modality per non-terminal step, none at sigma 0
    assert_parity(got_video.latent, t[f"{name}.video.final"], STEP_TOL, f"{name} video")
    assert_parity(got_audio.latent, t[f"{name}.audio.final"], STEP_TOL, f"{name} audio")
