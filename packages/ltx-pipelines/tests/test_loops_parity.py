"""Whole denoising loops with the tiny ltx2_av transformer against the reference's float64 runs, and the number of
transformer evaluations each loop makes."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.transformer import X0Model
from mlx_ltx_pipelines import (
    AudioLatentShape,
    AudioLatentTools,
    AudioPatchifier,
    EulerDiffusionStep,
    GaussianNoiser,
    GuidedDenoiser,
    LoopStep,
    LTX2Scheduler,
    ModalitySpec,
    MultiModalGuider,
    MultiModalGuiderParams,
    RecordedNoise,
    Res2sDiffusionStep,
    SimpleDenoiser,
    VideoConditionByLatentIndex,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    build_state,
    distilled_sigmas,
    euler_denoising_loop,
    res2s_audio_video_denoising_loop,
    run_loop,
    stage_2_distilled_sigmas,
)

from ltx_testing import assert_parity
from pipelines_goldens import CountingModel, audio_to_mlx, case, cases, tensors, tiny_transformer, video_to_mlx

LOOP_TOL = 1e-3  # max|Δ| ≤ 1e-3·max|ref| over whole loops (issue 7)
SCHEDULES = {
    "euler_distilled": distilled_sigmas,
    "euler_guided": lambda: LTX2Scheduler().execute(4),
    "res2s": lambda: LTX2Scheduler().execute(3),
    "a2v": stage_2_distilled_sigmas,
}
EVALUATIONS = {"euler_distilled": 8, "euler_guided": 4 * 4, "res2s": 2 * 3 + 1, "a2v": 3}


@pytest.fixture(scope="module")
def x0() -> X0Model:
    return X0Model(tiny_transformer("ltx2_av"))


def _states(info: dict[str, Any], t: dict[str, np.ndarray]) -> tuple[Any, Any]:
    """The loop's initial states, built as a pipeline stage does (frame-0 image, given initial noise)."""
    pixels = VideoPixelShape(1, *info["pixel_shape"], info["fps"])
    vt = VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape.from_pixel_shape(pixels), info["fps"])
    at = AudioLatentTools(AudioPatchifier(1), AudioLatentShape.from_video_pixel_shape(pixels))
    noiser = GaussianNoiser(RecordedNoise([mx.array(t["inputs.video.noise"]), mx.array(t["inputs.audio.noise"])]))
    image = VideoConditionByLatentIndex(video_to_mlx(t["inputs.video.frame0_latent"]), 1.0, 0)
    if info["loop"] == "a2v":  # A2V stage 2: video noised at its first sigma, audio frozen
        video = ModalitySpec(conditionings=[image], noise_scale=info["video_noise_scale"])
        audio = ModalitySpec(
            frozen=True, noise_scale=0.0, initial_latent=audio_to_mlx(t["inputs.audio.initial_latent"])
        )
    else:
        video, audio = ModalitySpec(conditionings=[image]), ModalitySpec()
    return build_state(video, vt, noiser), build_state(audio, at, noiser)


def _loop(info: dict[str, Any], t: dict[str, np.ndarray], model: Any) -> Any:
    vs, as_ = _states(info, t)
    ctx = {k: mx.array(t[f"inputs.{k}"]) for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg")}
    sigmas = SCHEDULES[info["loop"]]()
    np.testing.assert_array_equal(np.array(sigmas), np.array(info["sigmas"], dtype=np.float32))
    if info["loop"] == "euler_guided":
        video_guider = MultiModalGuider(MultiModalGuiderParams(**info["video_guider"]), ctx["v_ctx_neg"])
        audio_guider = MultiModalGuider(MultiModalGuiderParams(**info["audio_guider"]), ctx["a_ctx_neg"])
        denoiser = GuidedDenoiser(ctx["v_ctx_pos"], ctx["a_ctx_pos"], video_guider, audio_guider)
    else:
        denoiser = SimpleDenoiser(ctx["v_ctx_pos"], ctx["a_ctx_pos"])
    if info["loop"] == "res2s":
        noise = RecordedNoise([mx.array(t[f"res2s.noise.{i:02d}"]) for i in range(info["num_noise_draws"])])
        return res2s_audio_video_denoising_loop(
            sigmas, vs, as_, Res2sDiffusionStep(), model, denoiser, step_noise=noise, substep_noise=noise
        )
    return euler_denoising_loop(sigmas, vs, as_, EulerDiffusionStep(), model, denoiser)


@pytest.mark.parametrize("name", cases("loop"))
def test_loop_matches_reference(name: str, x0: X0Model) -> None:
    info, t = case(name), tensors(name)
    loop = info["loop"]
    model = CountingModel(x0)
    steps: list[LoopStep] = []
    video, audio = run_loop(_loop(info, t, model), steps.append)
    for i, step in enumerate(steps):  # per-step states, where stored, localise a divergence
        for m in ("video", "audio"):
            if f"{loop}.step{i}.{m}" in t:
                assert_parity(getattr(step, m).latent, t[f"{loop}.step{i}.{m}"], LOOP_TOL, f"{loop} step {i} {m}")
    assert_parity(video.latent, t[f"{loop}.video"], LOOP_TOL, f"{loop} video")
    assert_parity(audio.latent, t[f"{loop}.audio"], LOOP_TOL, f"{loop} audio")
    assert model.calls == EVALUATIONS[loop]
    assert [s.step for s in steps] == list(range(1, steps[0].num_steps + 1))
    if loop == "a2v":  # the frozen audio never changes
        np.testing.assert_array_equal(np.array(audio.latent), np.array(steps[0].audio.clean_latent))


class _MissesPerCall(CountingModel):
    """Records the stage cache's misses after each transformer call."""

    def __init__(self, model: X0Model, cache: Any):
        super().__init__(model)
        self.cache, self.misses = cache, []

    def __call__(self, video: Any, audio: Any, perturbations: Any = None) -> Any:
        out = super().__call__(video, audio, perturbations)
        mx.eval(out)
        self.misses.append(self.cache.misses)
        return out


@pytest.mark.parametrize("name", cases("loop"))
def test_text_kv_cache_serves_every_step_and_substep(name: str, x0: X0Model) -> None:
    """In a stage, every call after the first (res_2s sub-steps too) is served the text K/V and the other
    constants: no new entry; the loop's latents are bit for bit those without the K/V cache."""
    info, t = case(name), tensors(name)
    finals = {}
    for text_kv in (False, True):
        with x0.velocity_model.stage_constants(text_kv=text_kv) as cache:
            model = _MissesPerCall(x0, cache)
            finals[text_kv] = run_loop(_loop(info, t, model), lambda _: None)
            assert cache.nbytes("text_kv") > 0 if text_kv else cache.nbytes("text_kv") == 0
        assert len(model.misses) > 1 and set(model.misses) == {model.misses[0]}, model.misses
    for cached, plain in zip(finals[True], finals[False], strict=True):
        assert mx.array_equal(cached.latent, plain.latent)
