"""The temporal x2 round against the reference's DFR temporal round (v1.2.0): its frame count, playback and
conditioning frame rates, sigmas and ancestral eta, and the state it denoises (positions at the capped fps, the
upsampled latent noised to the first sigma, the frame-0 image)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import GaussianNoiser, ModalitySpec, RecordedNoise, VideoConditionByLatentIndex, build_state
from mlx_ltx_pipelines.stages import tools_for
from mlx_ltx_pipelines.temporal import (
    MAX_CONDITIONING_FPS,
    TEMPORAL_ANCESTRAL_ETA,
    TEMPORAL_SIGMA_VALUES,
    temporal_shape,
    temporal_sigmas,
)
from mlx_ltx_pipelines.types import VideoPixelShape

from ltx_testing import assert_parity
from pipelines_goldens import case, cases, tensors, video_to_mlx


class _Args:
    """The two transformer widths ``tools_for`` reads."""

    def __init__(self, channels: int):
        self.in_channels, self.audio_in_channels = channels, 128


@pytest.mark.parametrize("name", cases("temporal"))
def test_temporal_round_matches_reference(name: str) -> None:
    info, t = case(name), tensors(name)
    frames, height, width = info["base_pixel_shape"]
    stage_2 = VideoPixelShape(1, frames, height, width, info["base_fps"])
    shape = temporal_shape(stage_2)
    assert (shape.frames, shape.fps) == (info["frames"], info["conditioning_fps"])
    assert 2 * stage_2.fps == info["playback_fps"]  # Plan.output's rate
    np.testing.assert_array_equal(np.float32(TEMPORAL_SIGMA_VALUES), np.float32(info["sigmas"]))
    np.testing.assert_array_equal(np.array(temporal_sigmas()), t["sigmas"])
    assert (info["eta"], info["max_conditioning_fps"]) == (TEMPORAL_ANCESTRAL_ETA, MAX_CONDITIONING_FPS)
    (doc,) = info["items"]
    item = VideoConditionByLatentIndex(video_to_mlx(t[doc["latent"]]), doc["strength"], doc["latent_idx"])
    spec = ModalitySpec(
        conditionings=[item], noise_scale=info["noise_scale"], initial_latent=video_to_mlx(t["inputs.upsampled"])
    )
    video_tools, _ = tools_for(shape, _Args(info["video_channels"]))
    state = build_state(spec, video_tools, GaussianNoiser(RecordedNoise([mx.array(t["inputs.noise"])])))
    np.testing.assert_array_equal(np.array(state.positions), t["state.positions"], err_msg="positions")
    np.testing.assert_array_equal(np.array(state.denoise_mask), t["state.denoise_mask"], err_msg="denoise_mask")
    assert_parity(state.clean_latent, t["state.clean_latent"], 1e-6, "clean latent")
    assert_parity(state.latent, t["state.latent"], 1e-6, "noised latent")
