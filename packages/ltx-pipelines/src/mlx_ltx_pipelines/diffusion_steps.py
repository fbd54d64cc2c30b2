"""One step from sigma_i to sigma_{i+1} (ports ltx_core/components/diffusion_steps.py).

Sigmas arrive as an array (float32 from the schedulers, float64 for res_2s sub-steps); the scalar coefficient math
runs in that dtype, as in the reference, and the tensors in the step's own precision.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx
import numpy as np


def sigma_values(sigmas: mx.array | np.ndarray | Sequence[float]) -> np.ndarray:
    """The schedule as a numpy array keeping its float32 / float64 dtype (plain sequences become float32)."""
    if isinstance(sigmas, mx.array | np.ndarray):
        return np.asarray(sigmas)
    return np.asarray(sigmas, dtype=np.float32)


def to_velocity(sample: mx.array, sigma: float, denoised_sample: mx.array) -> mx.array:
    """``(x − x0) / σ`` in float32, cast to the sample's dtype."""
    if sigma == 0:
        raise ValueError("sigma=0 has no velocity: the last sigma of a schedule is never stepped from")
    v = (sample.astype(mx.float32) - denoised_sample.astype(mx.float32)) / float(sigma)
    return v.astype(sample.dtype)


class EulerDiffusionStep:
    """``x' = x + (x − x0)/σ_i · (σ_{i+1} − σ_i)``, computed in float32 and cast back."""

    def step(
        self,
        sample: mx.array,
        denoised_sample: mx.array,
        sigmas: mx.array | np.ndarray | Sequence[float],
        step_index: int,
    ) -> mx.array:
        """(B, T, C) sample and x0 prediction → (B, T, C) sample at the next sigma."""
        s = sigma_values(sigmas)
        sigma, dt = s[step_index], s[step_index + 1] - s[step_index]
        velocity = to_velocity(sample, float(sigma), denoised_sample)
        return (sample.astype(mx.float32) + velocity.astype(mx.float32) * float(dt)).astype(sample.dtype)


class Res2sDiffusionStep:
    """The SDE step of res_2s: from the x0-like target ``denoised_sample``, move to sigma_{i+1} keeping a
    ``σ_up = η·σ_{i+1}`` share of fresh ``noise`` (variance preserving)."""

    @staticmethod
    def get_sde_coeff(sigma_next: np.floating, sigma_up: np.floating) -> tuple[np.floating, np.floating, np.floating]:
        """(alpha_ratio, sigma_down, sigma_up) in the dtype of ``sigma_next``; σ_up is clamped to 0.9999 σ_next."""
        t = type(sigma_next)
        sigma_up = min(t(sigma_up), sigma_next * t(0.9999))
        residual = np.sqrt(max(sigma_next * sigma_next - sigma_up * sigma_up, t(0)))
        alpha_ratio = (t(1) - sigma_next) + residual
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma_down = residual / alpha_ratio
        sigma_down = sigma_next if np.isnan(sigma_down) else sigma_down
        alpha_ratio = t(1) if np.isnan(alpha_ratio) else alpha_ratio
        return alpha_ratio, sigma_down, t(0) if np.isnan(sigma_up) else sigma_up

    def step(
        self,
        sample: mx.array,
        denoised_sample: mx.array,
        sigmas: mx.array | np.ndarray | Sequence[float],
        step_index: int,
        noise: mx.array,
        eta: float = 0.5,
    ) -> mx.array:
        """``α·(x0' + σ_down·ε) + σ_up·noise`` with ``ε = (x − d)/(σ − σ')``, ``x0' = x − σ·ε``; returns
        ``denoised_sample`` itself when σ_{i+1} or σ_up is 0."""
        s = sigma_values(sigmas)
        sigma, sigma_next = s[step_index], s[step_index + 1]
        alpha_ratio, sigma_down, sigma_up = self.get_sde_coeff(sigma_next, sigma_next * type(sigma_next)(eta))
        if sigma_up == 0 or sigma_next == 0:
            return denoised_sample
        eps_next = (sample - denoised_sample) / float(sigma - sigma_next)
        denoised_next = sample - float(sigma) * eps_next
        x = float(alpha_ratio) * (denoised_next + float(sigma_down) * eps_next) + float(sigma_up) * noise
        return x.astype(denoised_sample.dtype)
