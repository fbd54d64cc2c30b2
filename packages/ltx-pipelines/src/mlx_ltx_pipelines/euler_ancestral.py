"""The ancestral (SDE) Euler sampler (ports ``EulerAncestralDiffusionStep`` of ltx_core/components/diffusion_steps.py
and ``euler_ancestral_denoising_loop`` of ltx_pipelines/utils/samplers.py, Lightricks v1.2.0).

Noise is drawn per step from MLX's RNG (``SeededNoise``), which cannot reproduce torch's generator stream: the same
seed gives another (equally distributed) trajectory than the reference. The goldens therefore check the step, and
the loop replaying the reference's recorded draws (``noise=RecordedNoise(...)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.denoisers import Denoiser, DenoisingModel
from mlx_ltx_pipelines.diffusion_steps import sigma_values
from mlx_ltx_pipelines.noisers import NoiseSource, SeededNoise
from mlx_ltx_pipelines.samplers import LoopStep, check_schedule
from mlx_ltx_pipelines.states import post_process_latent
from mlx_ltx_pipelines.types import LatentState


class EulerAncestralDiffusionStep:
    """Rectified-flow ancestral Euler: a deterministic step to ``σ_down = σ_{i+1}·(1 + (σ_{i+1}/σ_i − 1)·η)``, then
    renoised back up to ``σ_{i+1}`` with the signal rescaled by ``α_{i+1}/α_down`` (``α = 1 − σ``). ``eta=0`` is
    the plain Euler step, ``eta=1`` fully ancestral; ``s_noise`` scales the injected noise."""

    def __init__(self, eta: float = 1.0, s_noise: float = 1.0):
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"eta={eta} must be in [0, 1] (0 = plain Euler, 1 = fully ancestral)")
        if s_noise < 0:
            raise ValueError(f"s_noise={s_noise} must be >= 0 (it scales the injected noise)")
        self.eta, self.s_noise = eta, s_noise

    def step(
        self,
        sample: mx.array,
        denoised_sample: mx.array,
        sigmas: mx.array | np.ndarray | Sequence[float],
        step_index: int,
        noise: mx.array | None = None,
        **_kwargs: object,  # the reference's step protocol: extra loop arguments are ignored
    ) -> mx.array:
        """(B, T, C) sample, x0 prediction and standard-normal ``noise`` (required when eta > 0) → (B, T, C) sample
        at the next sigma, or ``denoised_sample`` when that sigma is 0. Math in float32 (sigmas too), as the
        reference; the result has the sample's dtype."""
        s = sigma_values(sigmas).astype(np.float32)  # the reference casts both sigmas to float32
        sigma, sigma_next = s[step_index], s[step_index + 1]
        if sigma_next == 0:
            return denoised_sample.astype(sample.dtype)
        if self.eta > 0 and noise is None:
            raise ValueError("EulerAncestralDiffusionStep needs a noise tensor when eta > 0 (pass noise=...)")
        sigma_down = sigma_next * (1.0 + (sigma_next / sigma - 1.0) * self.eta)
        ratio = sigma_down / sigma  # the Euler step to σ_down as an interpolation between x and x0
        x = float(ratio) * sample.astype(mx.float32) + float(1.0 - ratio) * denoised_sample.astype(mx.float32)
        if self.eta > 0 and noise is not None:  # noise is None only with eta 0 (checked above)
            alpha_next, alpha_down = 1.0 - sigma_next, 1.0 - sigma_down
            renoise = np.sqrt(max(sigma_next**2 - sigma_down**2 * alpha_next**2 / alpha_down**2, np.float32(0)))
            x = float(alpha_next / alpha_down) * x + noise.astype(mx.float32) * self.s_noise * float(renoise)
        return x.astype(sample.dtype)


def _num_steps(s: np.ndarray) -> int:
    """Steps the loop runs: it stops after the first step that reaches sigma 0."""
    n = check_schedule(s)
    zeros = np.flatnonzero(s[1:] == 0)
    return int(zeros[0]) + 1 if zeros.size else n


def _advance(
    state: LatentState | None,
    denoised: mx.array | None,
    stepper: EulerAncestralDiffusionStep,
    s: np.ndarray,
    i: int,
    noise: NoiseSource,
    model_dtype: mx.Dtype,
) -> LatentState | None:
    if state is None or denoised is None:
        return state
    denoised = post_process_latent(denoised.astype(mx.float32), state.denoise_mask, state.clean_latent)
    if s[i + 1] == 0:  # terminal step: the (mask-blended) x0 prediction itself
        return replace(state, latent=denoised.astype(model_dtype))
    draw_noise = stepper.eta > 0  # the reference gates on eta alone (s_noise=0 still rescales the signal)
    draw = noise(tuple(state.latent.shape), state.latent.dtype) if draw_noise else None
    x = stepper.step(state.latent.astype(mx.float32), denoised, s, i, noise=draw)
    if draw_noise:  # the injected noise must not reach conditioned tokens
        x = post_process_latent(x, state.denoise_mask, state.clean_latent)
    return replace(state, latent=x.astype(model_dtype))


def euler_ancestral_denoising_loop(
    sigmas: mx.array | np.ndarray | Sequence[float],
    video_state: LatentState | None,
    audio_state: LatentState | None,
    stepper: EulerAncestralDiffusionStep,
    transformer: DenoisingModel,
    denoiser: Denoiser,
    noise_seed: int,
    noise: NoiseSource | None = None,
    model_dtype: mx.Dtype | None = None,
) -> Iterator[LoopStep]:
    """Per step: x0 = denoiser(...), conditioned tokens blended back, ancestral step to the next sigma with fresh
    noise (one draw per present modality, video first, from ``SeededNoise(noise_seed)`` unless ``noise`` is
    given), conditioned tokens blended back again. A step to sigma 0 returns the x0 prediction and ends the loop.
    States are cast to ``model_dtype`` (default: the latent dtype) after every step."""
    if not isinstance(stepper, EulerAncestralDiffusionStep):
        raise ValueError(f"the ancestral Euler loop needs an EulerAncestralDiffusionStep, got {type(stepper).__name__}")
    present = video_state if video_state is not None else audio_state
    if present is None:
        raise ValueError("pass at least one of video_state and audio_state")
    s = sigma_values(sigmas)
    n = _num_steps(s)
    sig = mx.array(s)
    noise = noise or SeededNoise(noise_seed % 2**64)
    model_dtype = model_dtype or present.latent.dtype
    for i in range(n):
        den_v, den_a = denoiser(transformer, video_state, audio_state, sig, i)
        video_state = _advance(video_state, den_v, stepper, s, i, noise, model_dtype)
        audio_state = _advance(audio_state, den_a, stepper, s, i, noise, model_dtype)
        yield LoopStep(i + 1, n, video_state, audio_state)


@dataclass(frozen=True)
class EulerAncestralSampler:
    """The ancestral Euler loop as a sampler: ``denoise(..., sampler=EulerAncestralSampler(noise_seed=seed))``."""

    noise_seed: int
    eta: float = 1.0
    s_noise: float = 1.0

    def __post_init__(self) -> None:
        EulerAncestralDiffusionStep(self.eta, self.s_noise)  # check eta / s_noise at construction

    def __call__(
        self,
        sigmas: mx.array,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        transformer: DenoisingModel,
        denoiser: Denoiser,
    ) -> Iterator[LoopStep]:
        stepper = EulerAncestralDiffusionStep(self.eta, self.s_noise)
        return euler_ancestral_denoising_loop(
            sigmas, video_state, audio_state, stepper, transformer, denoiser, self.noise_seed
        )
