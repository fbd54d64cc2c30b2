"""σ samplers of the reference trainer (ltx_trainer/timestep_samplers.py): uniform and the stretched,
shifted logit-normal with a uniform fallback. σ is the flow time in [0, 1] (no ×1000)."""

from __future__ import annotations

from typing import Any, Protocol

import mlx.core as mx

from mlx_ltx_trainer.draws import Draws

NORMAL_999_PERCENTILE = 3.0902  # 99.9th percentile of N(0, 1)
NORMAL_005_PERCENTILE = -2.5758  # 0.5th percentile


class TimestepSampler(Protocol):
    def sample(self, batch_size: int, seq_length: int, draws: Draws) -> mx.array: ...

    def sample_for(self, latents: mx.array, draws: Draws) -> mx.array: ...


def _check_tokens(latents: mx.array) -> tuple[int, int]:
    if latents.ndim != 3:
        raise ValueError(f"latents should be (B, tokens, C), got {latents.ndim} dimensions")
    return latents.shape[0], latents.shape[1]


class UniformTimestepSampler:
    """σ = U[0, 1)·(max − min) + min; one ``rand(B)``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0):
        self.min_value, self.max_value = min_value, max_value

    def sample(self, batch_size: int, seq_length: int, draws: Draws) -> mx.array:
        del seq_length
        return draws.rand((batch_size,)) * (self.max_value - self.min_value) + self.min_value

    def sample_for(self, latents: mx.array, draws: Draws) -> mx.array:
        b, n = _check_tokens(latents)
        return self.sample(b, n, draws)


class ShiftedLogitNormalTimestepSampler:
    """s = sigmoid(z·std + μ(N)), stretched between the 0.5th and 99.9th percentiles, reflected below eps,
    clamped to [0, 1], and replaced by ``(1 − eps)·U + eps`` with probability ``uniform_prob``.
    Draws per call, in order: ``randn(B)``, ``rand(B)`` (the uniform), ``rand(B)`` (the choice)."""

    def __init__(self, std: float = 1.0, eps: float = 1e-3, uniform_prob: float = 0.1):
        self.std, self.eps, self.uniform_prob = std, eps, uniform_prob

    @staticmethod
    def shift_for_sequence_length(
        seq_length: int,
        min_tokens: int = 1024,
        max_tokens: int = 4096,
        min_shift: float = 0.95,
        max_shift: float = 2.05,
    ) -> float:
        """μ(N): linear in the token count through (1024, 0.95) and (4096, 2.05), not clamped."""
        m = (max_shift - min_shift) / (max_tokens - min_tokens)
        return m * seq_length + (min_shift - m * min_tokens)

    def percentile_bounds(self, seq_length: int) -> tuple[mx.array, mx.array]:
        """(p_lo, p_hi) = sigmoid(μ − 2.5758·std), sigmoid(μ + 3.0902·std), float32."""
        mu = self.shift_for_sequence_length(seq_length)
        lo = mx.sigmoid(mx.array(mu + NORMAL_005_PERCENTILE * self.std, dtype=mx.float32))
        hi = mx.sigmoid(mx.array(mu + NORMAL_999_PERCENTILE * self.std, dtype=mx.float32))
        return lo, hi

    def sample(self, batch_size: int, seq_length: int, draws: Draws) -> mx.array:
        mu = self.shift_for_sequence_length(seq_length)
        z = draws.randn((batch_size,), mx.float32)
        s = mx.sigmoid(z * self.std + mu)
        lo, hi = self.percentile_bounds(seq_length)
        r = (s - lo) / (hi - lo)
        r = mx.clip(mx.where(r >= self.eps, r, 2 * self.eps - r), 0, 1)
        uniform = (1 - self.eps) * draws.rand((batch_size,)) + self.eps
        choice = draws.rand((batch_size,))
        return mx.where(choice > self.uniform_prob, r, uniform)

    def sample_for(self, latents: mx.array, draws: Draws) -> mx.array:
        b, n = _check_tokens(latents)
        return self.sample(b, n, draws)


SAMPLERS: dict[str, type] = {
    "uniform": UniformTimestepSampler,
    "shifted_logit_normal": ShiftedLogitNormalTimestepSampler,
}


def make_sampler(mode: str, params: dict[str, Any] | None = None) -> TimestepSampler:
    """``flow_matching.timestep_sampling_mode`` + ``timestep_sampling_params`` (passed verbatim, as the reference
    does); unknown parameters raise ``ValueError`` naming them."""
    import inspect

    cls = SAMPLERS[mode]
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params or {}) - allowed)
    if unknown:
        raise ValueError(
            f"flow_matching.timestep_sampling_params: {', '.join(unknown)} not accepted by {mode} "
            f"(accepted: {', '.join(sorted(allowed))})"
        )
    return cls(**(params or {}))
