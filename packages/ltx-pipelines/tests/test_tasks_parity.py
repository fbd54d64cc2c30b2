"""Retake, extend, text-to-audio and video-to-audio loops with the tiny ltx2_av transformer against the reference's
float64 runs (tools/parity/goldens_tasks.py): the initial states (noised latent, denoise mask, positions) the port's
spec builders make, and the final latents after the whole loop."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines.conditioning import TemporalRegionMask
from mlx_ltx_pipelines.denoisers import GuidedDenoiser, SimpleDenoiser
from mlx_ltx_pipelines.guiders import MultiModalGuider, MultiModalGuiderParams
from mlx_ltx_pipelines.noisers import GaussianNoiser, RecordedNoise
from mlx_ltx_pipelines.patchifiers import AudioPatchifier, VideoLatentPatchifier
from mlx_ltx_pipelines.pipelines.audio_only import v2a_specs
from mlx_ltx_pipelines.pipelines.editing import EditingPipeline
from mlx_ltx_pipelines.pipelines.extend import extend_specs
from mlx_ltx_pipelines.pipelines.retake import retake_specs
from mlx_ltx_pipelines.schedulers import LTX2Scheduler, distilled_sigmas
from mlx_ltx_pipelines.stages import denoise, no_progress, tools_for
from mlx_ltx_pipelines.states import ModalitySpec, build_state
from mlx_ltx_pipelines.types import VideoPixelShape

from ltx_testing import assert_parity, goldens_root, load, manifest
from pipelines_goldens import audio_to_mlx, tiny_transformer, video_to_mlx

FAMILY = "tasks"
LOOP_TOL = 1e-3  # whole loops, as test_loops_parity
STATE_TOL = 1e-6  # the noised initial state: two lerps of float32 inputs


def _cases() -> list[str]:
    if not (goldens_root() / FAMILY / "manifest.json").exists():
        return []
    return sorted(manifest(FAMILY)["cases"])


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_transformer("ltx2_av")


@pytest.fixture(scope="module")
def t() -> dict[str, np.ndarray]:
    return load(FAMILY, "tasks.safetensors")


def _specs(info: dict[str, Any], t: dict[str, np.ndarray]) -> tuple[ModalitySpec | None, ModalitySpec | None]:
    """The case's streams as the port's pipelines build them."""
    video, audio = video_to_mlx(t["inputs.video.source"]), audio_to_mlx(t["inputs.audio.source"])
    kind = info["video"], info["audio"]
    if kind == ("retake", "retake") or "retake" in kind:
        span = TemporalRegionMask(*info["span"], info["fps"])
        return retake_specs(video, audio, span, kind[0] == "retake", kind[1] == "retake")
    if kind[0] in ("prefix", "suffix"):
        backward = kind[0] == "suffix"
        carried_v = video_to_mlx(t[f"inputs.video.{kind[0]}"])
        carried_a = audio_to_mlx(t[f"inputs.audio.{kind[0]}"])
        return extend_specs(carried_v, carried_a, backward, VideoPixelShape(1, *info["pixel_shape"], info["fps"]))
    if kind == ("frozen", "generate"):
        return v2a_specs(video)
    return None, ModalitySpec()  # t2a


def _denoiser(info: dict[str, Any], t: dict[str, np.ndarray]) -> Any:
    ctx = {k: mx.array(t[f"inputs.{k}"]) for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg")}
    with_video = info["video"] is not None
    v_pos = ctx["v_ctx_pos"] if with_video else None
    if not info["guided"]:
        return SimpleDenoiser(v_pos, ctx["a_ctx_pos"])
    vp = MultiModalGuiderParams(**info["video_guider"])
    ap = MultiModalGuiderParams(**info["audio_guider"])
    if not with_video:
        ap = EditingPipeline.audio_only(ap)
    return GuidedDenoiser(
        v_pos,
        ctx["a_ctx_pos"],
        MultiModalGuider(vp, ctx["v_ctx_neg"]) if with_video else None,
        MultiModalGuider(ap, ctx["a_ctx_neg"]),
    )


def _noiser(info: dict[str, Any], t: dict[str, np.ndarray]) -> GaussianNoiser:
    draws = [mx.array(t["inputs.audio.noise"])]
    if info["video"] is not None:
        draws.insert(0, mx.array(t["inputs.video.noise"]))
    return GaussianNoiser(RecordedNoise(draws))


@pytest.mark.parametrize("name", _cases())
def test_initial_states_match_reference(name: str, model: Any, t: dict[str, np.ndarray]) -> None:
    info = manifest(FAMILY)["cases"][name]
    shape = VideoPixelShape(1, *info["pixel_shape"], info["fps"])
    vt, at = tools_for(shape, model.args)
    video, audio = _specs(info, t)
    noiser = _noiser(info, t)
    for m, spec, tools in (("video", video, vt), ("audio", audio, at)):
        if spec is None:
            assert info[m] is None
            continue
        st = build_state(spec, tools, noiser)
        if f"{name}.{m}.initial.latent" not in t:  # frozen (kept clean) or a dedup'd case
            if info[m] == "frozen":
                np.testing.assert_array_equal(np.array(st.latent), np.array(st.clean_latent))
                assert float(mx.abs(st.denoise_mask).max()) == 0.0 and st.frozen
            continue
        assert_parity(st.latent, t[f"{name}.{m}.initial.latent"], STATE_TOL, f"{name} {m} latent")
        np.testing.assert_array_equal(np.array(st.denoise_mask), t[f"{name}.{m}.initial.denoise_mask"])
        assert_parity(st.positions, t[f"{name}.{m}.initial.positions"], STATE_TOL, f"{name} {m} positions")


@pytest.mark.parametrize("name", _cases())
def test_loop_matches_reference(name: str, model: Any, t: dict[str, np.ndarray]) -> None:
    info = manifest(FAMILY)["cases"][name]
    shape = VideoPixelShape(1, *info["pixel_shape"], info["fps"])
    sigmas = distilled_sigmas() if info["schedule"] == "distilled" else LTX2Scheduler().execute(3)
    np.testing.assert_allclose(np.array(sigmas), np.array(info["sigmas"], np.float32), rtol=0, atol=0)
    video, audio = _specs(info, t)
    v, a = denoise(model, shape, video, audio, _noiser(info, t), sigmas, _denoiser(info, t), no_progress, name)
    assert a is not None
    outputs = {"video": VideoLatentPatchifier(1).patchify(v) if video is not None else None}
    outputs["audio"] = AudioPatchifier(1).patchify(a)
    for m, source in (("video", "inputs.video.source"), ("audio", "inputs.audio.source")):
        if info[m] == "frozen":  # kept bit for bit
            clean = video_to_mlx(t[source]) if m == "video" else audio_to_mlx(t[source])
            np.testing.assert_array_equal(np.array(v if m == "video" else a), np.array(clean))
        elif info[m] is not None:
            assert_parity(outputs[m], t[f"{name}.{m}"], LOOP_TOL, f"{name} {m}")
    if info["video"] is None:
        assert v.shape[1] == 0


def test_retake_keeps_tokens_outside_the_span_bit_for_bit(model: Any, t: dict[str, np.ndarray]) -> None:
    """The reference keeps the latents outside the span: mask 0 there, and the loop returns them unchanged."""
    info = manifest(FAMILY)["cases"]["retake_distilled"]
    shape = VideoPixelShape(1, *info["pixel_shape"], info["fps"])
    video, audio = _specs(info, t)
    v, _ = denoise(
        model, shape, video, audio, _noiser(info, t), distilled_sigmas(), _denoiser(info, t), no_progress, "r"
    )
    mask = t["retake_distilled.video.initial.denoise_mask"].reshape(-1) == 0
    tokens = np.array(VideoLatentPatchifier(1).patchify(v))[0]
    source = np.array(VideoLatentPatchifier(1).patchify(video_to_mlx(t["inputs.video.source"])))[0]
    assert 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(tokens[mask], source[mask])
    assert not np.array_equal(tokens[~mask], source[~mask])
