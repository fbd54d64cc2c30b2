"""What the distilled pipeline needs for LTX-2.5: the keyframe mask of the first latent frame reaches the
transformer, image conditions use the version's CRF, and stage 1 samples with the version's sampler."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.conditioning import VideoConditionByKeyframeIndex
from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.params import params_for
from mlx_ltx_pipelines.patchifiers import VideoLatentPatchifier
from mlx_ltx_pipelines.states import modality_from_latent_state, state_with_conditionings
from mlx_ltx_pipelines.types import VideoLatentShape, VideoPixelShape

PIXELS = VideoPixelShape(batch=1, frames=17, height=64, width=96, fps=24.0)  # latent 3 × 2 × 3


def _tools() -> VideoLatentTools:
    return VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape.from_pixel_shape(PIXELS, 8), PIXELS.fps)


def test_the_first_latent_frame_is_marked() -> None:
    state = _tools().create_initial_state()
    mask = np.array(state.keyframes_mask)[0, :, 0]
    assert mask.shape == (18,) and mask[:6].all() and not mask[6:].any()  # 2 × 3 tokens per latent frame


def test_appended_keyframe_tokens_are_not_marked() -> None:
    """A keyframe image's tokens come after the target: the transformer's mask is 0 there (v1.2.0)."""
    tools = _tools()
    keyframe = VideoConditionByKeyframeIndex(mx.ones((1, 1, 2, 3, 8)), frame_idx=8, strength=1.0)
    state = state_with_conditionings(tools.create_initial_state(), [keyframe], tools)
    modality = modality_from_latent_state(state, mx.zeros((1, 4, 32)), mx.array([1.0]))
    assert modality.keyframes_mask is not None
    mask = np.array(modality.keyframes_mask)[0, :, 0]
    assert mask.shape == (24,) and mask[:6].all() and not mask[6:].any()
    cleared = tools.clear_conditioning(state)
    assert cleared.keyframes_mask is not None and cleared.keyframes_mask.shape == (1, 18, 1)


def test_image_crf_and_sampler_come_from_the_version_table() -> None:
    assert (params_for("2.3.0", "distilled").image_crf, params_for("2.3.0", "distilled").sampler) == (33, "euler")
    assert (params_for("2.5.0", "distilled").image_crf, params_for("2.5.0", "distilled").sampler) == (
        18,
        "euler_ancestral",
    )
