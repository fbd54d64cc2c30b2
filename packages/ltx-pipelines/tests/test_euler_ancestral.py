"""The ancestral Euler step and loop: eta 0 is Euler, input checks, seeded determinism, the draw order, mask
re-application, the terminal short-circuit and the variance the injected noise keeps."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import (
    EulerAncestralDiffusionStep,
    EulerAncestralSampler,
    EulerDiffusionStep,
    LatentState,
    RecordedNoise,
    distilled_sigmas,
    euler_ancestral_denoising_loop,
    euler_denoising_loop,
    post_process_latent,
    run_loop,
)

from ltx_testing import assert_parity

SIGMAS = mx.array([1.0, 0.9, 0.6, 0.25, 0.0], dtype=mx.float32)
CONDITIONED = 3  # the first tokens of the video state are clean conditioning (mask 0)


def _state(seed: int, tokens: int, channels: int = 8, conditioned: int = 0) -> LatentState:
    key_x, key_c = mx.random.split(mx.random.key(seed))
    mask = mx.concatenate([mx.zeros((1, conditioned, 1)), mx.ones((1, tokens - conditioned, 1))], axis=1)
    return LatentState(
        latent=mx.random.normal((1, tokens, channels), key=key_x),
        denoise_mask=mask,
        positions=mx.zeros((1, 3, tokens, 2)),
        clean_latent=mx.random.normal((1, tokens, channels), key=key_c) * (1 - mask),
    )


def _toy_denoiser(transformer, video, audio, sigmas, step_index):
    """x0 = 0.8·x − 0.1: a deterministic stand-in for the model."""
    return tuple(None if s is None else 0.8 * s.latent - 0.1 for s in (video, audio))


def _states() -> tuple[LatentState, LatentState]:
    return _state(1, 10, conditioned=CONDITIONED), _state(2, 6, channels=4)


def test_eta_zero_is_the_euler_step() -> None:
    x, den = mx.random.normal((1, 20, 8), key=mx.random.key(5)), mx.random.normal((1, 20, 8), key=mx.random.key(6))
    sig = distilled_sigmas()
    for i in range(sig.shape[0] - 2):  # the terminal step is checked below
        euler = EulerDiffusionStep().step(x, den, sig, i)
        assert_parity(EulerAncestralDiffusionStep(eta=0.0).step(x, den, sig, i), np.array(euler), 1e-6, f"step {i}")


def test_step_checks_and_terminal_step() -> None:
    x, den = mx.ones((1, 4, 2), dtype=mx.bfloat16), mx.full((1, 4, 2), 0.5)
    with pytest.raises(ValueError, match="needs a noise tensor when eta > 0"):
        EulerAncestralDiffusionStep().step(x, den, SIGMAS, 0)
    out = EulerAncestralDiffusionStep().step(x, den, SIGMAS, 3)  # σ_next = 0: the x0 prediction, no noise needed
    assert out.dtype == mx.bfloat16 and np.array_equal(np.array(out.astype(mx.float32)), np.array(den))
    with pytest.raises(ValueError, match=r"eta=1\.5 must be in \[0, 1\]"):
        EulerAncestralDiffusionStep(eta=1.5)
    with pytest.raises(ValueError, match="s_noise=-1 must be >= 0"):
        EulerAncestralSampler(noise_seed=0, s_noise=-1)
    with pytest.raises(ValueError, match="needs an EulerAncestralDiffusionStep, got EulerDiffusionStep"):
        next(euler_ancestral_denoising_loop(SIGMAS, *_states(), EulerDiffusionStep(), None, _toy_denoiser, 0))


def test_sampler_is_seeded_and_keeps_conditioned_tokens_clean() -> None:
    video, audio = _states()
    runs = {}
    for seed in (7, 7, 8):
        steps = list(EulerAncestralSampler(noise_seed=seed)(SIGMAS, video, audio, None, _toy_denoiser))
        assert [(s.step, s.num_steps) for s in steps] == [(i, 4) for i in range(1, 5)]
        for s in steps:  # the re-applied mask: noise never reaches a conditioned token
            np.testing.assert_array_equal(
                np.array(s.video.latent[:, :CONDITIONED]), np.array(video.clean_latent[:, :CONDITIONED])
            )
        runs.setdefault(seed, []).append(np.array(steps[-2].video.latent))
    np.testing.assert_array_equal(runs[7][0], runs[7][1])
    assert np.abs(runs[7][0] - runs[8][0])[:, CONDITIONED:].min() > 0


def test_loop_draws_video_then_audio_and_ends_on_the_prediction() -> None:
    """With recorded draws the loop equals stepping by hand: per step a video draw, then an audio draw."""
    video, audio = _states()
    draws = [mx.random.normal(s.latent.shape, key=mx.random.key(20 + k)) for k in range(3) for s in (video, audio)]
    stepper = EulerAncestralDiffusionStep(eta=0.5, s_noise=0.7)
    loop = euler_ancestral_denoising_loop(
        SIGMAS, video, audio, stepper, None, _toy_denoiser, 0, noise=RecordedNoise(draws)
    )
    got_v, got_a = run_loop(loop)
    states, s = [video, audio], np.array(SIGMAS)
    for i in range(4):
        for k, st in enumerate(states):
            den = post_process_latent(0.8 * st.latent - 0.1, st.denoise_mask, st.clean_latent)
            if i < 3:
                den = stepper.step(st.latent, den, s, i, noise=draws[2 * i + k])
                den = post_process_latent(den, st.denoise_mask, st.clean_latent)
            states[k] = LatentState(den, st.denoise_mask, st.positions, st.clean_latent)
    np.testing.assert_array_equal(np.array(got_v.latent), np.array(states[0].latent))
    np.testing.assert_array_equal(np.array(got_a.latent), np.array(states[1].latent))


def test_eta_zero_loop_is_the_euler_loop_and_draws_nothing() -> None:
    video, audio = _states()
    stepper = EulerAncestralDiffusionStep(eta=0.0)
    loop = euler_ancestral_denoising_loop(SIGMAS, video, None, stepper, None, _toy_denoiser, 0, noise=RecordedNoise([]))
    ours, _ = run_loop(loop)
    euler, _ = run_loop(euler_denoising_loop(SIGMAS, video, None, EulerDiffusionStep(), None, _toy_denoiser))
    assert_parity(ours.latent, np.array(euler.latent), 1e-6, "eta 0 loop")
    no_video, audio_only = run_loop(EulerAncestralSampler(noise_seed=1)(SIGMAS, None, audio, None, _toy_denoiser))
    assert no_video is None and audio_only.latent.shape == audio.latent.shape


def test_injected_noise_preserves_the_marginal_variance() -> None:
    """With an exact x0 = 0, x ~ σ·n stays σ'·n' after each step: std ≈ σ_{i+1} (2·10⁵ samples, ±2%)."""
    sigmas = mx.array([0.95, 0.8, 0.5, 0.2, 0.05], dtype=mx.float32)
    start = LatentState(
        latent=0.95 * mx.random.normal((1, 4096, 48), key=mx.random.key(3)),
        denoise_mask=mx.ones((1, 4096, 1)),
        positions=mx.zeros((1, 3, 4096, 2)),
        clean_latent=mx.zeros((1, 4096, 48)),
    )

    def exact_x0(transformer, video, audio, sigmas, step_index):
        return mx.zeros_like(video.latent), None

    for step in EulerAncestralSampler(noise_seed=4, eta=1.0)(sigmas, start, None, None, exact_x0):
        std = float(mx.std(step.video.latent))
        assert abs(std / float(sigmas[step.step]) - 1) < 0.02, (step.step, std)
