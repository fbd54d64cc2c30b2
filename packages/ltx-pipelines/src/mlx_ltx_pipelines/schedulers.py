"""Sigma schedules (ports ltx_core/components/schedulers.py and the distilled sigmas of
ltx_pipelines/utils/constants.py).

The schedules are computed in float32 with the reference's operation order (torch.linspace's two-sided fill,
``a / t`` as ``t.reciprocal() * a``) so they match it bit for bit: the 1-step LTX2Scheduler schedule relies on
that rounding to give [0.1, 0].
"""

from __future__ import annotations

import math

import mlx.core as mx
import numpy as np

# Tuned with the distillation: stage 1 (8 steps) and the stage-2 refinement after upsampling (3 steps).
DISTILLED_SIGMA_VALUES = (1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875, 0.0)
STAGE_2_DISTILLED_SIGMA_VALUES = (0.909375, 0.725, 0.421875, 0.0)

BASE_SHIFT_ANCHOR = 1024
MAX_SHIFT_ANCHOR = 4096
_f32 = np.float32


def distilled_sigmas() -> mx.array:
    """(9,) float32 stage-1 sigmas of the distilled model."""
    return mx.array(DISTILLED_SIGMA_VALUES, dtype=mx.float32)


def stage_2_distilled_sigmas() -> mx.array:
    """(4,) float32 stage-2 sigmas (the first one is also the stage-2 noise scale)."""
    return mx.array(STAGE_2_DISTILLED_SIGMA_VALUES, dtype=mx.float32)


def _check_steps(steps: int) -> None:
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps={steps} must be a positive integer")


def _linspace_1_to_0(n: int) -> np.ndarray:
    """torch.linspace(1, 0, n) in float32: fused multiply-add from the start for the first half, from the end
    for the second."""
    step = np.float64((_f32(0) - _f32(1)) / _f32(max(n - 1, 1)))
    return np.array([1.0 + step * i if i < n // 2 else -step * (n - i - 1) for i in range(n)]).astype(_f32)


class LTX2Scheduler:
    """``linspace(1, 0, N+1)`` shifted by the token count (``shift = tokens·m + b``, 2.05 at 4096 tokens, the
    default when no token count is given), then stretched so the last nonzero sigma is ``terminal``."""

    def execute(
        self,
        steps: int,
        num_tokens: int | None = None,
        max_shift: float = 2.05,
        base_shift: float = 0.95,
        stretch: bool = True,
        terminal: float = 0.1,
        default_number_of_tokens: int = MAX_SHIFT_ANCHOR,
    ) -> mx.array:
        """(steps + 1,) float32 sigmas from ~1 down to 0. ``num_tokens``: F·H·W of the latent the HQ pipeline
        passes (the shipped pipelines pass none: 4096)."""
        _check_steps(steps)
        tokens = num_tokens if num_tokens is not None else default_number_of_tokens
        m = (max_shift - base_shift) / (MAX_SHIFT_ANCHOR - BASE_SHIFT_ANCHOR)
        e = _f32(math.exp(tokens * m + (base_shift - m * BASE_SHIFT_ANCHOR)))
        sigmas = _linspace_1_to_0(steps + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            shifted = (_f32(1) / ((_f32(1) / sigmas - _f32(1)) + e)) * e
            sigmas = np.where(sigmas != 0, shifted, _f32(0)).astype(_f32)
            if stretch:
                nonzero = sigmas != 0
                one_minus_z = _f32(1) - sigmas[nonzero]
                scale = one_minus_z[-1] / _f32(1.0 - terminal)
                sigmas[nonzero] = _f32(1) - one_minus_z / scale
        return mx.array(sigmas)


class LinearQuadraticScheduler:
    """Linear sigmas down to ``1 − threshold_noise`` over ``linear_steps`` (default half), then quadratic to 0."""

    def execute(self, steps: int, threshold_noise: float = 0.025, linear_steps: int | None = None) -> mx.array:
        """(steps + 1,) float32 sigmas from 1 to 0."""
        _check_steps(steps)
        if steps == 1:
            return mx.array([1.0, 0.0], dtype=mx.float32)
        linear_steps = steps // 2 if linear_steps is None else linear_steps
        if not 0 < linear_steps <= steps:
            raise ValueError(f"linear_steps={linear_steps} must be in [1, steps={steps}]")
        schedule = [i * threshold_noise / linear_steps for i in range(linear_steps)]
        diff = linear_steps - threshold_noise * steps
        quadratic_steps = steps - linear_steps
        if quadratic_steps > 0:
            quadratic_coef = diff / (linear_steps * quadratic_steps**2)
            linear_coef = threshold_noise / linear_steps - 2 * diff / (quadratic_steps**2)
            const = quadratic_coef * (linear_steps**2)
            schedule += [quadratic_coef * i**2 + linear_coef * i + const for i in range(linear_steps, steps)]
        return mx.array([1.0 - x for x in [*schedule, 1.0]], dtype=mx.float32)
