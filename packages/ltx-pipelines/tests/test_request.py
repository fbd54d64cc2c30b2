"""The request object, the per-pipeline checks (before any model loads), BY_NAME and the sampler parameter."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.transformer import X0Model
from mlx_ltx_pipelines import (
    AudioLatentShape,
    AudioLatentTools,
    AudioPatchifier,
    EulerDiffusionStep,
    EulerSampler,
    GaussianNoiser,
    LTX2Scheduler,
    Res2sDiffusionStep,
    Res2sSampler,
    SimpleDenoiser,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    create_noised_state,
    euler_denoising_loop,
    res2s_audio_video_denoising_loop,
    run_loop,
)
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.pipelines import BY_NAME, LatentUpscalePipeline, UpscaleRequest
from mlx_ltx_pipelines.request import GenerationRequest
from mlx_ltx_pipelines.stages import ImageConditioningInput, VideoConditioningInput, denoise

from pipelines_goldens import tiny_transformer

PIXELS = VideoPixelShape(1, 9, 64, 96, 24.0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A model folder with an index only: enough to build a pipeline and check a request."""
    (tmp_path / "model_index.json").write_text(json.dumps({"model_version": "2.3.0", "components": {}}))
    return tmp_path


def _pipeline(name: str, folder: Path):
    cls = BY_NAME[name]
    if name == "ic-lora":
        return cls(folder, loras=[LoRA("ic", 1.0, {})])
    return cls(folder, distilled_lora=LoRA("none", 1.0, {})) if cls.needs_distilled_lora else cls(folder)


def test_a_request_is_a_value() -> None:
    image = ImageConditioningInput("a.png")
    request = GenerationRequest("a fox", images=[image], video_conditioning=[VideoConditioningInput("v.mp4")])
    assert request.images == (image,) and isinstance(request.video_conditioning, tuple)
    with pytest.raises(AttributeError):
        request.seed = 3  # type: ignore[misc]
    assert request.given("seed", "images", "tiling") == ["images"]


def test_by_name_holds_every_generation_pipeline() -> None:
    assert list(BY_NAME) == ["distilled", "dev", "dev-two-stage", "dev-two-stage-hq", "keyframe", "ic-lora"]
    assert all(cls.name == name for name, cls in BY_NAME.items())
    assert {n for n, c in BY_NAME.items() if c.guided} == {"dev", "dev-two-stage", "dev-two-stage-hq", "keyframe"}
    assert {n for n, c in BY_NAME.items() if c.needs_distilled_lora} == {
        "dev-two-stage",
        "dev-two-stage-hq",
        "keyframe",
    }
    for name in ("distilled", "dev", "dev-two-stage-hq", "keyframe"):  # no class flag is left
        assert not {"two_stage", "hq", "keyframes_only", "res2s"} & set(vars(BY_NAME[name]))


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("distilled", {"num_frames": 24}, "num_frames=24 must be 8k\\+1"),
        ("distilled", {"height": 96, "width": 128}, "height=96 must be a multiple of 64"),
        ("dev", {"height": 96, "width": 100}, "width=100 must be a multiple of 32"),
        ("distilled", {"frame_rate": -1.0}, "frame_rate=-1.0"),
        ("distilled", {"images": [ImageConditioningInput("a.png", 200)]}, "frame index 200"),
        ("distilled", {"negative_prompt": "blurry"}, "negative_prompt= does not apply to the distilled pipeline"),
        ("dev", {"skip_stage_2": True}, "skip_stage_2= does not apply to the dev pipeline"),
        ("distilled", {"tiling": "huge"}, "tiling='huge': choose one of auto, none"),
        ("distilled", {"image_mode": "blend"}, "image_mode='blend'"),
        ("distilled", {"audio": ("a.wav",), "generate_audio": False}, "generate_audio=False"),
        ("keyframe", {}, "the keyframe pipeline interpolates between images"),
        ("distilled", {"spatial_upscale": 3.0}, "spatial_upscale=3: choose 2 or 1.5"),
        ("distilled", {"spatial_upscale": 1.5, "height": 128, "width": 192}, "height=128 must be a multiple of 96"),
        ("dev-two-stage", {"spatial_upscale": 1.5}, "no x1.5 spatial upscaler"),
        ("distilled", {"temporal_upscale": True}, "no temporal x2 upscaler"),
        ("distilled", {"temporal_upscale": True, "num_frames": 1}, "num_frames=1: temporal_upscale doubles a video"),
        ("dev", {"spatial_upscale": 1.5}, "spatial_upscale= does not apply to the dev pipeline"),
        ("dev", {"temporal_upscale": True}, "temporal_upscale= does not apply to the dev pipeline"),
        ("ic-lora", {"temporal_upscale": True, "skip_stage_2": True}, "temporal_upscale= upscales into stage 2"),
    ],
)
def test_check_refuses_before_any_model_loads(folder: Path, name: str, fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _pipeline(name, folder)(GenerationRequest("a fox", **fields))


def test_plan_and_estimate_follow_the_class(folder: Path) -> None:
    one, two = _pipeline("dev", folder), _pipeline("dev-two-stage", folder)
    request = GenerationRequest("a fox", height=128, width=192, num_frames=9)
    assert one.plan(request).small == one.plan(request).full == VideoPixelShape(1, 9, 128, 192, 24.0)
    assert two.plan(request).small == VideoPixelShape(1, 9, 64, 96, 24.0)
    assert one.plan(GenerationRequest("a fox")).full.height == two.params.height // 2  # one stage: stage-1 size
    assert one.passes(request) == 4 and _pipeline("distilled", folder).passes(request) == 1
    hq = _pipeline("dev-two-stage-hq", folder).sampler(3)
    assert isinstance(two.sampler(3), EulerSampler) and isinstance(hq, Res2sSampler) and hq.noise_seed == 3
    assert BY_NAME["keyframe"].image_mode(None, request) == "guide"  # type: ignore[arg-type]


def test_plan_of_the_upscalers(folder: Path) -> None:
    two = _pipeline("distilled", folder)
    x15 = two.plan(GenerationRequest("a fox", height=768, width=1152, num_frames=9, spatial_upscale=1.5))
    assert (x15.small.height, x15.small.width, x15.full.height, x15.full.width) == (512, 768, 768, 1152)
    default = two.plan(GenerationRequest("a fox", spatial_upscale=1.5))  # 1.5x the x2 default's stage 1
    assert (default.small.height, default.small.width, default.full.height, default.full.width) == (512, 768, 768, 1152)
    t2 = two.plan(GenerationRequest("a fox", num_frames=121, frame_rate=25.0, temporal_upscale=True))
    assert t2.full.frames == 121 and (t2.output.frames, t2.output.fps) == (241, 50.0)


def test_the_keyword_form_builds_the_same_request() -> None:
    names = set(inspect.signature(BY_NAME["distilled"].__call__).parameters)
    assert {"request", "prompt", "seed", "images", "image_mode", "progress"} <= names
    assert "res2s_seed" not in inspect.signature(denoise).parameters
    assert isinstance(inspect.signature(denoise).parameters["sampler"].default, EulerSampler)


def test_ic_lora_needs_its_lora_and_upscale_its_source(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="needs an IC-LoRA: pass loras=") as info:
        BY_NAME["ic-lora"](folder, loras=[])
    assert info.value.parameter == "loras"
    upscale = LatentUpscalePipeline(folder)
    with pytest.raises(ParameterError, match="no such file") as info:
        upscale(UpscaleRequest(tmp_path / "missing.png"))
    assert info.value.parameter == "source"
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(ParameterError, match="refine=True needs the prompt"):
        upscale.check(UpscaleRequest(tmp_path / "a.png", refine=True))
    assert UpscaleRequest(tmp_path / "a.png").is_image and not UpscaleRequest("v.mp4").is_image


def _states():
    vt = VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape.from_pixel_shape(PIXELS), PIXELS.fps)
    at = AudioLatentTools(AudioPatchifier(1), AudioLatentShape.from_video_pixel_shape(PIXELS))
    noiser = GaussianNoiser(3)
    return create_noised_state(vt, [], noiser), create_noised_state(at, [], noiser)


def test_samplers_run_the_loops_bit_for_bit() -> None:
    x0 = X0Model(tiny_transformer("ltx2_av"))
    keys = mx.random.split(mx.random.key(11), 2)
    denoiser = SimpleDenoiser(*(mx.random.normal((1, 12, 24), key=k) for k in keys))
    sigmas = LTX2Scheduler().execute(2)
    pairs = [
        (EulerSampler(), lambda: euler_denoising_loop(sigmas, *_states(), EulerDiffusionStep(), x0, denoiser)),
        (
            Res2sSampler(noise_seed=42),
            lambda: res2s_audio_video_denoising_loop(
                sigmas, *_states(), Res2sDiffusionStep(), x0, denoiser, noise_seed=42
            ),
        ),
    ]
    for sampler, loop in pairs:
        ours, ref = run_loop(sampler(sigmas, *_states(), x0, denoiser)), run_loop(loop())
        for a, b in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(np.array(a.latent), np.array(b.latent))


def test_latents_without_their_fields_are_one_line(tmp_path) -> None:
    from safetensors.numpy import save_file

    from mlx_ltx_pipelines.result import LATENTS_FORMAT, GenerationResult

    file = tmp_path / "bare.latents.safetensors"
    save_file({"video_latent": np.zeros((1, 4), np.float32)}, str(file), metadata={"format": LATENTS_FORMAT})
    with pytest.raises(ValueError, match=r"no frame_rate, seed, model entry in its metadata.*\(or the model folder\)"):
        GenerationResult.load_latents(file)
    save_file(
        {"video_latent": np.zeros((1, 4), np.float32)},
        str(file),
        metadata={"format": LATENTS_FORMAT, "frame_rate": "fast", "seed": "1", "model": "m"},
    )
    with pytest.raises(ValueError, match="a metadata entry of the latents file is not a number"):
        GenerationResult.load_latents(file)
