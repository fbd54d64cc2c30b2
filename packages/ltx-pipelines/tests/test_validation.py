"""Bad requests and inputs fail with one line naming the value and the rule."""

from __future__ import annotations

import mlx.core as mx
import pytest

from mlx_ltx_pipelines import (
    ConditioningError,
    ConditioningItemAttentionStrengthWrapper,
    GaussianNoiser,
    RecordedNoise,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
    VideoConditionByReferenceLatent,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    check_frame_rate,
    check_num_frames,
    check_resolution,
    create_noised_state,
)


def _tools(channels: int = 8) -> VideoLatentTools:
    shape = VideoLatentShape.from_pixel_shape(VideoPixelShape(1, 17, 64, 96, 24.0), latent_channels=channels)
    return VideoLatentTools(VideoLatentPatchifier(1), shape, 24.0)


def _state(items: list, tools: VideoLatentTools | None = None):
    return create_noised_state(tools or _tools(), items, GaussianNoiser(0))


def test_request_checks() -> None:
    assert check_num_frames(121) == 121 and check_resolution(512, 768) == (512, 768)
    with pytest.raises(ValueError, match=r"^num_frames=30 must be 8k\+1 \(e\.g\. 25 or 33\)$"):
        check_num_frames(30)
    with pytest.raises(ValueError, match=r"^num_frames=0 must be 8k\+1 \(e\.g\. 1 or 9\)$"):
        check_num_frames(0)
    with pytest.raises(ValueError, match=r"^height=500 must be a multiple of 32 \(e\.g\. 480 or 512\)$"):
        check_resolution(500, 768)
    with pytest.raises(
        ValueError, match=r"^width=736 must be a multiple of 64 for two-stage pipelines \(e\.g\. 704 or 768\)$"
    ):
        check_resolution(512, 736, two_stage=True)
    with pytest.raises(ValueError, match=r"^frame_rate=0 must be > 0"):
        check_frame_rate(0)


def test_strengths_out_of_range() -> None:
    image = mx.zeros((1, 1, 2, 3, 8))
    with pytest.raises(ConditioningError, match=r"^strength=1\.5 must be in \[0, 1\]"):
        VideoConditionByLatentIndex(image, 1.5, 0)
    with pytest.raises(ValueError, match=r"^strength=-0\.1 must be in \[0, 1\]"):
        VideoConditionByKeyframeIndex(image, 8, -0.1)
    with pytest.raises(ValueError, match=r"attention_mask values 0\.\.1\.2 must be in \[0, 1\]"):
        ConditioningItemAttentionStrengthWrapper(VideoConditionByKeyframeIndex(image, 8, 1.0), mx.array([0.0, 1.2]))
    with pytest.raises(ValueError, match=r"^noise_scale=1\.5 must be in \[0, 1\]"):
        GaussianNoiser(0)(_tools().create_initial_state(), 1.5)
    with pytest.raises(ValueError, match=r"^downscale_factor=0 must be a positive integer"):
        VideoConditionByReferenceLatent(image, downscale_factor=0)


def test_conflicting_and_misfit_conditioning() -> None:
    image = mx.zeros((1, 1, 2, 3, 8))
    with pytest.raises(ValueError, match=r"^conditionings 0 and 1 both replace latent frame 0"):
        _state([VideoConditionByLatentIndex(image, 1.0, 0), VideoConditionByLatentIndex(image, 0.5, 0)])
    with pytest.raises(ValueError, match=r"^conditionings 0 and 1 are both keyframes at frame_idx=8"):
        _state([VideoConditionByKeyframeIndex(image, 8, 1.0), VideoConditionByKeyframeIndex(image, 8, 0.5)])
    with pytest.raises(ValueError, match=r"frame_idx=17 is past the last frame \(16\)"):
        _state([VideoConditionByKeyframeIndex(image, 17, 1.0)])
    with pytest.raises(ValueError, match=r"latent_idx=3 with 1 latent frame\(s\) is past the target's 3 latent frames"):
        _state([VideoConditionByLatentIndex(image, 1.0, 3)])
    with pytest.raises(
        ValueError,
        match=r"image latent of shape \(1, 1, 4, 6, 8\) .* \(1, 8, 4, 6\), the target latent has \(1, 8, 2, 3\)",
    ):
        _state([VideoConditionByLatentIndex(mx.zeros((1, 1, 4, 6, 8)), 1.0, 0)])
    with pytest.raises(ValueError, match=r"keyframe latent .* has \(batch, channels\) \(1, 16\)"):
        _state([VideoConditionByKeyframeIndex(mx.zeros((1, 1, 2, 3, 16)), 8, 1.0)])
    wrapped = ConditioningItemAttentionStrengthWrapper(VideoConditionByKeyframeIndex(image, 8, 1.0), mx.ones((5,)))
    with pytest.raises(ValueError, match=r"attention_mask of shape \(5,\) must be a scalar, \(6,\) or \(1, 6\)"):
        _state([wrapped])
    with pytest.raises(
        ValueError, match=r"initial_latent has shape \(1, 3, 2, 3, 4\); this stage needs \(1, 3, 2, 3, 8\)"
    ):
        _tools().create_initial_state(initial_latent=mx.zeros((1, 3, 2, 3, 4)))


def test_recorded_noise_errors() -> None:
    noise = RecordedNoise([mx.zeros((1, 2))])
    with pytest.raises(ValueError, match=r"draw 1 has shape \(1, 2\), requested \(1, 3\)"):
        noise((1, 3), mx.float32)
    noise((1, 2), mx.float32)
    with pytest.raises(ValueError, match="draw 2 requested but only 1 were recorded"):
        noise((1, 2), mx.float32)
