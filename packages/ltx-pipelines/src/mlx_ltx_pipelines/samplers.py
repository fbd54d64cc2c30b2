"""Denoising loops as generators (ports ltx_pipelines/utils/samplers.py): each yields a ``LoopStep`` after every
model-evaluation step; the caller evaluates (``mx.eval``), reports progress or stops. ``run_loop`` does the
plain thing: evaluate every step and return the final states.

A ``Sampler`` makes one stage's loop; a new sampler is one module with its ``DiffusionStep`` and its ``Sampler``
(see ``EulerSampler`` here, ``Res2sSampler`` in ``res2s.py``). Either state may be None (that modality is absent
and passes through).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.denoisers import Denoiser, DenoisingModel
from mlx_ltx_pipelines.diffusion_steps import EulerDiffusionStep, sigma_values
from mlx_ltx_pipelines.states import post_process_latent
from mlx_ltx_pipelines.types import LatentState


class LoopStep(NamedTuple):
    """Yielded after each step: ``step`` of ``num_steps`` done, the states after it."""

    step: int
    num_steps: int
    video: LatentState | None
    audio: LatentState | None


class DiffusionStep(Protocol):
    """One step of a sample from ``sigmas[step_index]`` to the next sigma, given the model's x0 prediction."""

    def step(
        self, sample: mx.array, denoised_sample: mx.array, sigmas: Any, step_index: int, **kwargs: Any
    ) -> mx.array: ...


class Sampler(Protocol):
    """Makes one stage's denoising loop (a generator of LoopStep)."""

    def __call__(
        self,
        sigmas: mx.array,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        transformer: DenoisingModel,
        denoiser: Denoiser,
    ) -> Iterator[LoopStep]: ...


def run_loop(
    loop: Iterator[LoopStep], on_step: Callable[[LoopStep], None] | None = None
) -> tuple[LatentState | None, LatentState | None]:
    """Run a loop to the end, evaluating every step's latents; returns the final (video, audio) states."""
    last = None
    for last in loop:
        mx.eval([s.latent for s in (last.video, last.audio) if s is not None])
        if on_step is not None:
            on_step(last)
    if last is None:
        raise ValueError("the loop ran no step: a schedule needs at least two sigmas")
    return last.video, last.audio


def check_schedule(sigmas: np.ndarray) -> int:
    """Number of steps of a 1-D schedule of at least two sigmas."""
    if sigmas.ndim != 1 or sigmas.shape[0] < 2:
        raise ValueError(f"sigmas of shape {sigmas.shape} must be a 1-D schedule of at least 2 values")
    return sigmas.shape[0] - 1


def _step_state(
    state: LatentState | None, denoised: mx.array | None, stepper: DiffusionStep, sigmas: np.ndarray, i: int
) -> LatentState | None:
    if state is None or denoised is None:
        return state
    denoised = post_process_latent(denoised, state.denoise_mask, state.clean_latent)
    return replace(state, latent=stepper.step(state.latent, denoised, sigmas, i))


def euler_denoising_loop(
    sigmas: mx.array,
    video_state: LatentState | None,
    audio_state: LatentState | None,
    stepper: DiffusionStep,
    transformer: DenoisingModel,
    denoiser: Denoiser,
) -> Iterator[LoopStep]:
    """Per step: x0 = denoiser(...), conditioned tokens blended back to clean, Euler step to the next sigma."""
    s = sigma_values(sigmas)
    n = check_schedule(s)
    sigmas = mx.array(s)
    for i in range(n):
        den_v, den_a = denoiser(transformer, video_state, audio_state, sigmas, i)
        video_state = _step_state(video_state, den_v, stepper, s, i)
        audio_state = _step_state(audio_state, den_a, stepper, s, i)
        yield LoopStep(i + 1, n, video_state, audio_state)


@dataclass(frozen=True)
class EulerSampler:
    """The first-order loop of every pipeline but HQ: ``euler_denoising_loop`` with ``stepper``."""

    stepper: DiffusionStep = field(default_factory=EulerDiffusionStep)

    def __call__(
        self,
        sigmas: mx.array,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        transformer: DenoisingModel,
        denoiser: Denoiser,
    ) -> Iterator[LoopStep]:
        return euler_denoising_loop(sigmas, video_state, audio_state, self.stepper, transformer, denoiser)
