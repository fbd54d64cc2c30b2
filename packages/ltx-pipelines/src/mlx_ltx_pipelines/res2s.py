"""The res_2s sampler: a 2-stage exponential Runge–Kutta step with SDE noise (ports
ltx_pipelines/utils/samplers.res2s_audio_video_denoising_loop and ltx_pipelines/utils/res2s.py).

The latent arithmetic runs in the highest precision the device has (float64 on the CPU, float32 on the GPU),
as the reference does (float64 on CPU/CUDA, float32 on MPS).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.denoisers import Denoiser, DenoisingModel
from mlx_ltx_pipelines.diffusion_steps import Res2sDiffusionStep, sigma_values
from mlx_ltx_pipelines.noisers import NoiseSource, SeededNoise
from mlx_ltx_pipelines.samplers import LoopStep, check_schedule
from mlx_ltx_pipelines.states import post_process_latent
from mlx_ltx_pipelines.types import LatentState

# A final sigma of 0 becomes this one (plus a last pure denoise), avoiding log(0) in the step size.
RES2S_FINAL_SIGMA = 0.0011
SUBSTEP_SEED_OFFSET = 10000


def phi(j: int, neg_h: float) -> float:
    """φ_j(z) = (e^z − Σ_{k<j} z^k/k!) / z^j (1/j! at z = 0)."""
    if abs(neg_h) < 1e-10:
        return 1.0 / math.factorial(j)
    remainder = sum(neg_h**k / math.factorial(k) for k in range(j))
    return (math.exp(neg_h) - remainder) / (neg_h**j)


def get_res2s_coefficients(h: float, c2: float = 0.5) -> tuple[float, float, float]:
    """(a21, b1, b2) for a step of size ``h = ln(σ_i / σ_{i+1})``: ``a21 = c2·φ1(−h·c2)``, ``b2 = φ2(−h)/c2``,
    ``b1 = φ1(−h) − b2``."""
    a21 = c2 * phi(1, -h * c2)
    b2 = phi(2, -h) / c2
    return a21, phi(1, -h) - b2, b2


def highest_precision_float() -> mx.Dtype:
    """float64 where MLX runs it (the CPU), else float32."""
    return mx.float64 if mx.default_device() == mx.cpu else mx.float32


def normalize_sde_noise(noise: mx.array) -> mx.array:
    """Standardise globally, then per sample over the last two axes (unbiased std), as the reference's draws."""
    noise = (noise - noise.mean()) / mx.std(noise, ddof=1)
    mean = noise.mean(axis=(-2, -1), keepdims=True)
    return (noise - mean) / mx.std(noise, axis=(-2, -1), keepdims=True, ddof=1)


class SDENoise:
    """The res_2s SDE noise: seeded standard-normal draws, normalised in the requested precision."""

    def __init__(self, seed: int):
        self._source = SeededNoise(seed % 2**64)

    def __call__(self, shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        return normalize_sde_noise(self._source(shape, mx.float32).astype(dtype))


class _Modality:
    """One modality's high-precision res_2s quantities within a step."""

    def __init__(self, state: LatentState, hp: mx.Dtype):
        self.state = state
        self.anchor = state.latent.astype(hp)
        self.denoised: mx.array | None = None
        self.eps: mx.array | None = None
        self.mid: mx.array | None = None

    def blend(self, denoised: mx.array, dtype: mx.Dtype) -> mx.array:
        return post_process_latent(denoised, self.state.denoise_mask, self.state.clean_latent).astype(dtype)


@dataclass
class _Res2s:
    """What every step of one res_2s run shares: schedule, model, noise sources and precisions."""

    s: np.ndarray  # the schedule (float32), final 0 already replaced by 0.0011, 0
    transformer: DenoisingModel
    denoiser: Denoiser
    stepper: Res2sDiffusionStep
    step_noise: NoiseSource
    substep_noise: NoiseSource
    eta: float
    bong_iters: int
    model_dtype: mx.Dtype
    hp: mx.Dtype

    def __post_init__(self) -> None:
        self.s_hp = self.s.astype(np.float64)
        with np.errstate(divide="ignore"):  # the last step (0.0011 → 0) is a plain denoise: its h is unused
            self.hs = -np.log(self.s_hp[1:] / self.s_hp[:-1])
        self.sig = mx.array(self.s)

    def _inject(
        self, m: _Modality, target: mx.array, sigmas: np.ndarray, i: int, noise: NoiseSource, eta: float
    ) -> mx.array:
        """SDE step from the anchor toward ``target`` with a fresh draw; conditioned tokens blended back."""
        draw = noise(tuple(m.state.latent.shape), self.hp)
        x = self.stepper.step(m.anchor, target, sigmas, i, draw, eta)
        return post_process_latent(x, m.state.denoise_mask, m.state.clean_latent)

    def step(self, i: int, video: LatentState | None, audio: LatentState | None) -> list[LatentState | None]:
        """One full step: x0 at σ_i, noised midpoint at √(σ_i σ_{i+1}), x0 there, combined noised step."""
        h = float(self.hs[i])
        a21, b1, b2 = get_res2s_coefficients(h, 0.5)
        sigma, sigma_next = self.s_hp[i], self.s_hp[i + 1]
        sub = np.array([sigma, math.sqrt(sigma * sigma_next)])
        mods = [None if st is None else _Modality(st, self.hp) for st in (video, audio)]
        live = []
        for m, d in zip(mods, self.denoiser(self.transformer, video, audio, self.sig, i), strict=True):
            if m is not None and d is not None:  # video, then audio: the order the noise is drawn in
                m.denoised = m.blend(d, self.hp)
                m.eps = m.denoised - m.anchor
                m.mid = self._inject(m, m.anchor + h * a21 * m.eps, sub, 0, self.substep_noise, 0.5)
                live.append(m)
        if self.bong_iters and h < 0.5 and sigma > 0.03:
            for m in live:  # refine the anchor so that the noised midpoint is its exact RK midpoint
                for _ in range(self.bong_iters):
                    m.anchor = m.mid - h * a21 * m.eps
                    m.eps = m.denoised - m.anchor
        mid = [
            None if m is None or m.mid is None else replace(m.state, latent=m.mid.astype(self.model_dtype))
            for m in mods
        ]
        sub_sigma = mx.array(sub[1:].astype(np.float32))
        new = [video, audio]
        for k, d in enumerate(self.denoiser(self.transformer, mid[0], mid[1], sub_sigma, 0)):
            m = mods[k]
            if m is None or m.mid is None or m.eps is None or d is None:
                continue
            x_next = m.anchor + h * (b1 * m.eps + b2 * (m.blend(d, self.hp) - m.anchor))
            x_next = self._inject(m, x_next, self.s, i, self.step_noise, self.eta)
            new[k] = replace(m.state, latent=x_next.astype(self.model_dtype))
        return new

    def final(self, i: int, video: LatentState | None, audio: LatentState | None) -> list[LatentState | None]:
        """The last pure denoise at 0.0011: the states become the (mask-blended) x0 prediction."""
        out = self.denoiser(self.transformer, video, audio, self.sig, i)
        return [
            None if st is None or d is None else replace(st, latent=_Modality(st, self.hp).blend(d, self.model_dtype))
            for st, d in zip((video, audio), out, strict=True)
        ]


def res2s_audio_video_denoising_loop(
    sigmas: mx.array,
    video_state: LatentState | None,
    audio_state: LatentState | None,
    stepper: Res2sDiffusionStep,
    transformer: DenoisingModel,
    denoiser: Denoiser,
    noise_seed: int = -1,
    noise_seed_substep: int | None = None,
    eta: float = 0.5,
    bongmath: bool = True,
    bongmath_max_iter: int = 100,
    step_noise: NoiseSource | None = None,
    substep_noise: NoiseSource | None = None,
    model_dtype: mx.Dtype | None = None,
) -> Iterator[LoopStep]:
    """res_2s over ``sigmas``, two model evaluations per step (plus one final denoise when the schedule ends at
    0, which becomes 0.0011). SDE noise comes from ``SDENoise(noise_seed)`` and ``SDENoise(noise_seed + 10000)``
    (sub-steps) unless sources are given; pass one ``RecordedNoise`` as both to replay draws recorded in call
    order (per step: substep video, substep audio, step video, step audio). ``eta`` scales the step noise (the
    sub-step always uses 0.5). States are cast to ``model_dtype`` (default: the latent dtype) after every step."""
    if not isinstance(stepper, Res2sDiffusionStep):
        raise ValueError(f"res_2s needs a Res2sDiffusionStep stepper, got {type(stepper).__name__}")
    present = video_state if video_state is not None else audio_state
    if present is None:
        raise ValueError("pass at least one of video_state and audio_state")
    s = sigma_values(sigmas)
    n_full = check_schedule(s)
    final = bool(s[-1] == 0)
    if final:
        s = np.concatenate([s[:-1], np.array([RES2S_FINAL_SIGMA, 0.0], dtype=s.dtype)])
    substep_seed = noise_seed + SUBSTEP_SEED_OFFSET if noise_seed_substep is None else noise_seed_substep
    run = _Res2s(
        s=s,
        transformer=transformer,
        denoiser=denoiser,
        stepper=stepper,
        step_noise=step_noise or SDENoise(noise_seed),
        substep_noise=substep_noise or SDENoise(substep_seed),
        eta=eta,
        bong_iters=bongmath_max_iter if bongmath else 0,
        model_dtype=model_dtype or present.latent.dtype,
        hp=highest_precision_float(),
    )
    num_steps = n_full + final
    for i in range(n_full):
        video_state, audio_state = run.step(i, video_state, audio_state)
        yield LoopStep(i + 1, num_steps, video_state, audio_state)
    if final:
        video_state, audio_state = run.final(n_full, video_state, audio_state)
        yield LoopStep(num_steps, num_steps, video_state, audio_state)


@dataclass(frozen=True)
class Res2sSampler:
    """res_2s as a pipeline's sampler (the HQ pipeline): ``res2s_audio_video_denoising_loop`` seeded with
    ``noise_seed`` (the generation's seed, as the reference)."""

    noise_seed: int
    stepper: Res2sDiffusionStep = field(default_factory=Res2sDiffusionStep)

    def __call__(
        self,
        sigmas: mx.array,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        transformer: DenoisingModel,
        denoiser: Denoiser,
    ) -> Iterator[LoopStep]:
        return res2s_audio_video_denoising_loop(
            sigmas, video_state, audio_state, self.stepper, transformer, denoiser, noise_seed=self.noise_seed
        )
