"""Latent layouts, positions, noise sources, guidance passes and loop behaviour with the tiny transformer."""

from __future__ import annotations

import itertools

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.transformer import X0Model
from mlx_ltx_pipelines import (
    AudioLatentShape,
    AudioLatentTools,
    AudioPatchifier,
    EulerDiffusionStep,
    FactoryGuidedDenoiser,
    GaussianNoiser,
    GuidedDenoiser,
    LTX2Scheduler,
    MultiModalGuider,
    MultiModalGuiderFactory,
    MultiModalGuiderParams,
    Res2sDiffusionStep,
    SeededNoise,
    SimpleDenoiser,
    VideoConditionByLatentIndex,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    create_noised_state,
    distilled_sigmas,
    euler_denoising_loop,
    res2s_audio_video_denoising_loop,
    run_loop,
)

from pipelines_goldens import CountingModel, tiny_transformer

PIXELS = VideoPixelShape(1, 17, 64, 96, 24.0)


@pytest.fixture(scope="module")
def x0() -> X0Model:
    return X0Model(tiny_transformer("ltx2_av"))


def _tools() -> tuple[VideoLatentTools, AudioLatentTools]:
    video = VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape.from_pixel_shape(PIXELS), PIXELS.fps)
    return video, AudioLatentTools(AudioPatchifier(1), AudioLatentShape.from_video_pixel_shape(PIXELS))


def _states(seed: int = 3):
    vt, at = _tools()
    noiser = GaussianNoiser(seed)
    image = VideoConditionByLatentIndex(mx.random.normal((1, 1, 2, 3, 128), key=mx.random.key(7)), 1.0, 0)
    return create_noised_state(vt, [image], noiser), create_noised_state(at, [], noiser)


def _contexts() -> dict[str, mx.array]:
    keys = mx.random.split(mx.random.key(11), 4)
    return {n: mx.random.normal((1, 12, 24), key=k) for n, k in zip(("vp", "vn", "ap", "an"), keys, strict=True)}


def test_video_patchifier_channel_order_and_round_trip() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 6, 5)).astype(np.float32)  # (B, F, H, W, C)
    p = VideoLatentPatchifier(2)
    tokens = np.array(p.patchify(mx.array(x)))
    # reference: "b c (f 1) (h p) (w q) -> b (f h w) (c p q)" on the (B, C, F, H, W) layout
    ref = x.transpose(0, 4, 1, 2, 3).reshape(2, 5, 3, 2, 2, 3, 2).transpose(0, 2, 3, 5, 1, 4, 6).reshape(2, 18, 20)
    np.testing.assert_array_equal(tokens, ref)
    shape = VideoLatentShape(2, 5, 3, 4, 6)
    np.testing.assert_array_equal(np.array(p.unpatchify(mx.array(tokens), shape)), x)
    assert p.get_token_count(shape) == 18 and p.get_patch_grid_bounds(shape).shape == (2, 3, 18, 2)


def test_audio_patchifier_and_positions() -> None:
    x = np.random.default_rng(1).standard_normal((1, 5, 16, 8)).astype(np.float32)  # (B, T, mel, C)
    p = AudioPatchifier(1)
    tokens = np.array(p.patchify(mx.array(x)))
    np.testing.assert_array_equal(tokens, x.transpose(0, 1, 3, 2).reshape(1, 5, 128))  # (c f) order
    shape = AudioLatentShape(1, 8, 5, 16)
    np.testing.assert_array_equal(np.array(p.unpatchify(mx.array(tokens), shape)), x)
    bounds = np.array(p.get_patch_grid_bounds(shape))[0, 0]
    np.testing.assert_allclose(bounds[:3], [[0, 0.01], [0.01, 0.05], [0.05, 0.09]], rtol=1e-6)
    assert AudioLatentShape.from_video_pixel_shape(VideoPixelShape(1, 121, 512, 768, 24.0)).frames == 126


def test_video_positions_causal_time_in_seconds() -> None:
    vt, _ = _tools()
    state = vt.create_initial_state()
    pos = np.array(state.positions)[0]
    assert pos.shape == (3, 18, 2) and state.latent.shape == (1, 18, 128) and state.denoise_mask.shape == (1, 18, 1)
    np.testing.assert_allclose(pos[0, [0, 6, 12]] * 24, [[0, 1], [1, 9], [9, 17]], rtol=1e-6)  # frames 0, 1, 2
    np.testing.assert_array_equal(pos[1, :6], [[0, 32], [0, 32], [0, 32], [32, 64], [32, 64], [32, 64]])
    np.testing.assert_array_equal(pos[2, :3], [[0, 32], [32, 64], [64, 96]])


def test_noise_sources_and_noiser() -> None:
    a, b = SeededNoise(5), SeededNoise(5)
    first = a((2, 3), mx.float32)
    assert mx.array_equal(first, b((2, 3), mx.float32)) and not mx.array_equal(first, a((2, 3), mx.float32))
    vt, _ = _tools()
    image = mx.ones((1, 1, 2, 3, 128))
    state = vt.create_initial_state()
    state = VideoConditionByLatentIndex(image, 1.0, 0).apply_to(state, vt)
    noised = GaussianNoiser(1)(state, 1.0)
    assert mx.array_equal(noised.latent[:, :6], state.clean_latent[:, :6])  # mask 0: kept clean
    assert not mx.array_equal(noised.latent[:, 6:], state.latent[:, 6:])
    kept = GaussianNoiser(1)(state, 0.0).latent  # noise scale 0 keeps the latent, conditioned tokens become clean
    assert mx.array_equal(kept[:, 6:], state.latent[:, 6:]) and mx.array_equal(kept[:, :6], state.clean_latent[:, :6])


@pytest.mark.parametrize(("cfg", "stg", "mod"), list(itertools.product((1.0, 3.0), (0.0, 1.0), (1.0, 3.0))))
def test_guided_denoiser_runs_one_forward_per_pass(x0: X0Model, cfg: float, stg: float, mod: float) -> None:
    ctx = _contexts()
    params = MultiModalGuiderParams(cfg_scale=cfg, stg_scale=stg, modality_scale=mod, stg_blocks=[1])
    audio = MultiModalGuiderParams()  # the audio guider adds no pass of its own
    denoiser = GuidedDenoiser(
        ctx["vp"], ctx["ap"], MultiModalGuider(params, ctx["vn"]), MultiModalGuider(audio, ctx["an"])
    )
    model = CountingModel(x0)
    vs, as_ = _states()
    video, audio_x0 = denoiser(model, vs, as_, distilled_sigmas(), 0)
    assert model.calls == 1 + (cfg != 1.0) + (stg != 0.0) + (mod != 1.0)
    assert model.forwards == 1  # the passes share one batched forward
    assert video.shape == vs.latent.shape and audio_x0.shape == as_.latent.shape
    one_by_one = GuidedDenoiser(
        ctx["vp"],
        ctx["ap"],
        MultiModalGuider(params, ctx["vn"]),
        MultiModalGuider(audio, ctx["an"]),
        batch_passes=False,
    )
    separate = CountingModel(x0)
    v2, a2 = one_by_one(separate, vs, as_, distilled_sigmas(), 0)
    assert separate.forwards == model.calls
    np.testing.assert_allclose(np.array(v2), np.array(video), rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.array(a2), np.array(audio_x0), rtol=0, atol=1e-5)


def test_a_guided_stage_computes_its_constants_once(x0: X0Model) -> None:
    """Stacked contexts / positions / masks and the transformer's RoPE tables and biases: built at the first step,
    reused by the other steps; the result is bit for bit the plain loop's."""
    ctx = _contexts()
    params = MultiModalGuiderParams(cfg_scale=3.0, stg_scale=1.0, stg_blocks=[1])

    def run():
        denoiser = GuidedDenoiser(
            ctx["vp"], ctx["ap"], MultiModalGuider(params, ctx["vn"]), MultiModalGuider(params, ctx["an"])
        )
        loop = euler_denoising_loop(distilled_sigmas()[:4], *_states(), EulerDiffusionStep(), x0, denoiser)
        return run_loop(loop), denoiser._stacked

    plain, _ = run()
    with x0.velocity_model.stage_constants() as cache:
        staged, stacked = run()
        assert cache.misses > 0 and cache.hits == 2 * cache.misses  # 3 steps: computed once, reused twice
    assert stacked.misses > 0 and stacked.hits == 2 * stacked.misses
    for ours, ref in zip(staged, plain, strict=True):
        np.testing.assert_array_equal(np.array(ours.latent), np.array(ref.latent))


def test_skip_step_reuses_the_previous_prediction(x0: X0Model) -> None:
    ctx = _contexts()
    params = MultiModalGuiderParams(cfg_scale=3.0, skip_step=1)
    denoiser = GuidedDenoiser(
        ctx["vp"], ctx["ap"], MultiModalGuider(params, ctx["vn"]), MultiModalGuider(params, ctx["an"])
    )
    model = CountingModel(x0)
    steps = list(euler_denoising_loop(distilled_sigmas()[:5], *_states(), EulerDiffusionStep(), model, denoiser))
    assert len(steps) == 4 and model.calls == 2 * 2  # steps 0 and 2 guided (2 passes), steps 1 and 3 reused


def test_factory_guider_chooses_params_by_sigma(x0: X0Model) -> None:
    ctx = _contexts()
    bins = {1.0: MultiModalGuiderParams(cfg_scale=3.0), 0.95: MultiModalGuiderParams()}
    denoiser = FactoryGuidedDenoiser(ctx["vp"], ctx["ap"], MultiModalGuiderFactory.from_dict(bins, ctx["vn"]))
    model = CountingModel(x0)
    denoiser.audio_guider_factory = MultiModalGuiderFactory.from_dict(bins, ctx["an"])
    run_loop(euler_denoising_loop(distilled_sigmas(), *_states(), EulerDiffusionStep(), model, denoiser))
    assert model.calls == 5 * 2 + 3  # sigmas 1 … 0.975 in the CFG bin, 0.909375 … 0.421875 unguided


def test_loop_is_a_generator_and_stops_early(x0: X0Model) -> None:
    ctx = _contexts()
    model = CountingModel(x0)
    loop = euler_denoising_loop(
        distilled_sigmas(), *_states(), EulerDiffusionStep(), model, SimpleDenoiser(ctx["vp"], ctx["ap"])
    )
    first, second = next(loop), next(loop)
    assert (first.step, second.step, second.num_steps, model.calls) == (1, 2, 8, 2)
    assert not mx.array_equal(first.video.latent, second.video.latent)


def test_video_only_loop_passes_absent_audio_through(x0: X0Model) -> None:
    vs, _ = _states()
    model = CountingModel(x0)
    video, audio = run_loop(
        euler_denoising_loop(
            LTX2Scheduler().execute(2), vs, None, EulerDiffusionStep(), model, SimpleDenoiser(_contexts()["vp"], None)
        )
    )
    assert audio is None and video.latent.shape == vs.latent.shape and model.calls == 2
    np.testing.assert_array_equal(np.array(video.latent[:, :6]), np.array(vs.clean_latent[:, :6]))  # image kept


def test_res2s_with_seeded_noise_is_deterministic(x0: X0Model) -> None:
    ctx = _contexts()

    def run() -> tuple:
        loop = res2s_audio_video_denoising_loop(
            LTX2Scheduler().execute(2),
            *_states(),
            Res2sDiffusionStep(),
            x0,
            SimpleDenoiser(ctx["vp"], ctx["ap"]),
            noise_seed=42,
        )
        return run_loop(loop)

    (v1, a1), (v2, a2) = run(), run()
    assert mx.array_equal(v1.latent, v2.latent) and mx.array_equal(a1.latent, a2.latent)
    assert v1.latent.dtype == mx.float32 and bool(mx.all(mx.isfinite(v1.latent)))
    with pytest.raises(ValueError, match="res_2s needs a Res2sDiffusionStep stepper, got EulerDiffusionStep"):
        next(res2s_audio_video_denoising_loop(distilled_sigmas(), *_states(), EulerDiffusionStep(), x0, None))
