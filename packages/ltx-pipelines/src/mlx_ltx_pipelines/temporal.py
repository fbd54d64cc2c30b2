"""The temporal x2 round after stage 2: the latent doubled in time by the temporal upscaler, then refined (ports a
temporal round of ltx_pipelines/dfr_pipeline.py, v1.2.0, as one tile: these pipelines have no seam keyframes).

The round keeps the reference's numbers: F pixel frames become 2(F−1)+1 at twice the frame rate; the refinement
denoises the video alone from sigma 0.975 over ``DISTILLED_SIGMAS[4:]`` with ancestral Euler (eta 0.5, loop seed
``seed + 1000·round + tile``), its positions at ``min(2·fps, 60)`` fps (RoPE time is frame / fps: past 60 fps
the model no longer spreads 8 frames over one latent token); the output plays at 2·fps.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx

from mlx_ltx_pipelines.conditioning import ConditioningItem, VideoConditionByKeyframeIndex
from mlx_ltx_pipelines.denoisers import SimpleDenoiser
from mlx_ltx_pipelines.euler_ancestral import EulerAncestralSampler
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.schedulers import DISTILLED_SIGMA_VALUES
from mlx_ltx_pipelines.stages import Progress, denoise
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VideoPixelShape

TEMPORAL_SIGMA_VALUES = DISTILLED_SIGMA_VALUES[4:]  # (0.975, 0.909375, 0.725, 0.421875, 0.0)
TEMPORAL_ANCESTRAL_ETA = 0.5
TEMPORAL_NOISE_SEED_OFFSET = 1000  # per round; the reference adds the tile index (always 0 here)
MAX_CONDITIONING_FPS = 60.0


def doubled_frames(num_frames: int) -> int:
    """Pixel frames after the temporal x2 upscaler (latent T → 2T − 1): 2(F − 1) + 1."""
    return 2 * (num_frames - 1) + 1


def temporal_shape(shape: VideoPixelShape) -> VideoPixelShape:
    """The round's pixel shape: doubled frames, the conditioning (position) frame rate min(2·fps, 60)."""
    return shape._replace(frames=doubled_frames(shape.frames), fps=min(2 * shape.fps, MAX_CONDITIONING_FPS))


def temporal_sigmas() -> mx.array:
    return mx.array(TEMPORAL_SIGMA_VALUES, dtype=mx.float32)


def retimed(conditionings: Sequence[ConditioningItem]) -> list[ConditioningItem]:
    """Stage 2's image conditionings on the doubled frame grid: a keyframe at pixel frame k moves to 2k, where its
    moment now is (the reference's DFR round re-applies images at their original index, which is a different
    moment after doubling); a first-frame (latent index 0) image stays."""
    out: list[ConditioningItem] = []
    for item in conditionings:
        if isinstance(item, VideoConditionByKeyframeIndex):
            item = VideoConditionByKeyframeIndex(
                item.keyframes, 2 * item.frame_idx, item.strength, item.num_pixel_frames
            )
        out.append(item)
    return out


def temporal_round(
    model,
    video: mx.array,
    shape: VideoPixelShape,
    conditionings: Sequence[ConditioningItem],
    video_context: mx.array,
    noiser: GaussianNoiser,
    seed: int,
    progress: Progress,
    round_index: int = 1,
) -> mx.array:
    """Refine ``video`` (B, 2T − 1, H, W, C), the temporally upsampled stage-2 latent of pixel ``shape`` (stage 2's:
    F frames at fps), with the stage-2 transformer; returns the refined latent (same shape). Video only: the audio
    of stage 2 is kept."""
    sigmas = temporal_sigmas()
    spec = ModalitySpec(conditionings=retimed(conditionings), noise_scale=float(sigmas[0]), initial_latent=video)
    sampler = EulerAncestralSampler(
        noise_seed=seed + TEMPORAL_NOISE_SEED_OFFSET * round_index, eta=TEMPORAL_ANCESTRAL_ETA
    )
    denoiser = SimpleDenoiser(video_context, None)
    out, _ = denoise(model, temporal_shape(shape), spec, None, noiser, sigmas, denoiser, progress, "temporal", sampler)
    return out


__all__ = [
    "MAX_CONDITIONING_FPS",
    "TEMPORAL_ANCESTRAL_ETA",
    "TEMPORAL_NOISE_SEED_OFFSET",
    "TEMPORAL_SIGMA_VALUES",
    "doubled_frames",
    "retimed",
    "temporal_round",
    "temporal_shape",
    "temporal_sigmas",
]
