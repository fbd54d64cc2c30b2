"""Initial states, conditioning and the state → transformer input conversion (ports the state helpers of
ltx_pipelines/utils/helpers.py, ``ModalitySpec`` of utils/types.py and ``_build_state`` of utils/blocks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import mlx.core as mx

from mlx_ltx_core.model.transformer import Modality
from mlx_ltx_pipelines.conditioning import (
    ConditioningError,
    ConditioningItem,
    ConditioningItemAttentionStrengthWrapper,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
)
from mlx_ltx_pipelines.latent_tools import AudioLatentTools, VideoLatentTools
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.types import LatentState

LatentTools = VideoLatentTools | AudioLatentTools
Tools = TypeVar("Tools", bound=LatentTools)


@dataclass(frozen=True)
class ModalitySpec:
    """What one modality brings to a stage: its prompt context (B, L, D), conditioning items, the noise scale of
    the initial state (1 = pure noise, stage 2 = its first sigma, 0 = keep ``initial_latent``), ``frozen``
    (held fixed: denoise mask 0 and ``Modality.sigma`` 0, e.g. the A2V audio) and an optional initial latent
    in MLX layout."""

    context: mx.array | None = None
    conditionings: Sequence[ConditioningItem] = field(default_factory=tuple)
    noise_scale: float = 1.0
    frozen: bool = False
    initial_latent: mx.array | None = None


def _unwrap(item: ConditioningItem) -> ConditioningItem:
    return _unwrap(item.conditioning) if isinstance(item, ConditioningItemAttentionStrengthWrapper) else item


def check_conditionings(items: Sequence[ConditioningItem]) -> None:
    """Reject conflicting items: two images replacing the same latent frame, or two keyframes at one frame."""
    replaced: dict[int, int] = {}
    keyframes: dict[int, int] = {}
    for i, item in enumerate(map(_unwrap, items)):
        if isinstance(item, VideoConditionByLatentIndex):
            for frame in item.frames():
                if frame in replaced:
                    first = replaced[frame]
                    raise ConditioningError(
                        f"conditionings {first} and {i} both replace latent frame {frame}: give one image per frame"
                    )
                replaced[frame] = i
        elif isinstance(item, VideoConditionByKeyframeIndex):
            if item.frame_idx in keyframes:
                first = keyframes[item.frame_idx]
                raise ConditioningError(
                    f"conditionings {first} and {i} are both keyframes at frame_idx={item.frame_idx}"
                )
            keyframes[item.frame_idx] = i


def state_with_conditionings(
    latent_state: LatentState, conditioning_items: Sequence[ConditioningItem[Tools]], latent_tools: Tools
) -> LatentState:
    """Apply the items in order (each appending or overwriting tokens) after checking they do not conflict."""
    check_conditionings(conditioning_items)
    for item in conditioning_items:
        latent_state = item.apply_to(latent_state, latent_tools)
    return latent_state


def create_noised_state(
    tools: Tools,
    conditionings: Sequence[ConditioningItem[Tools]],
    noiser: GaussianNoiser,
    dtype: mx.Dtype = mx.float32,
    noise_scale: float = 1.0,
    initial_latent: mx.array | None = None,
) -> LatentState:
    """Initial state → conditioned → noised: the state a denoising loop starts from."""
    state = tools.create_initial_state(dtype, initial_latent)
    state = state_with_conditionings(state, conditionings, tools)
    return noiser(state, noise_scale)


def build_state(
    spec: ModalitySpec, tools: LatentTools, noiser: GaussianNoiser, dtype: mx.Dtype = mx.float32
) -> LatentState:
    """The noised state of one modality spec; a frozen spec gets denoise mask 0 and ``frozen=True``."""
    state = create_noised_state(tools, spec.conditionings, noiser, dtype, spec.noise_scale, spec.initial_latent)
    if spec.frozen:
        state = replace(state, denoise_mask=mx.zeros_like(state.denoise_mask), frozen=True)
    return state


def post_process_latent(denoised: mx.array, denoise_mask: mx.array, clean: mx.array) -> mx.array:
    """Blend the prediction with the clean latent: ``d·mask + clean·(1 − mask)`` (conditioned tokens stay clean)."""
    blended = denoised * denoise_mask + clean.astype(mx.float32) * (1 - denoise_mask)
    return blended.astype(denoised.dtype)


def timesteps_from_mask(denoise_mask: mx.array, sigma: float | mx.array) -> mx.array:
    """Per-token timesteps ``mask · σ``: (B, T, 1) mask, scalar or (B,) sigma → (B, T, 1)."""
    if isinstance(sigma, mx.array) and sigma.ndim == 1:
        sigma = sigma.reshape(-1, *([1] * (denoise_mask.ndim - 1)))
    return denoise_mask * sigma


def modality_from_latent_state(
    state: LatentState, context: mx.array, sigma: mx.array, enabled: bool = True, context_mask: mx.array | None = None
) -> Modality:
    """Transformer input of a state at ``sigma`` (B,): a frozen state passes sigma 0 (v1.2.0), its per-token
    timesteps are already 0 through its denoise mask."""
    if state.frozen:
        sigma = mx.zeros_like(sigma)
    return Modality(
        latent=state.latent,
        sigma=sigma,
        timesteps=timesteps_from_mask(state.denoise_mask, sigma),
        positions=state.positions,
        context=context,
        enabled=enabled,
        context_mask=context_mask,
        attention_mask=state.attention_mask,
        keyframes_mask=_keyframes_mask(state),
    )


def _keyframes_mask(state: LatentState) -> mx.array | None:
    """The target's keyframe tokens, 0 on the tokens conditioning items appended after the target."""
    mask = state.keyframes_mask
    if mask is None or mask.shape[1] == state.latent.shape[1]:
        return mask
    return mx.pad(mask, [(0, 0), (0, state.latent.shape[1] - mask.shape[1]), (0, 0)])
