"""Noise sources and the Gaussian noiser of the initial state (ports ltx_core/components/noisers.py).

A noise source is any ``(shape, dtype) -> array`` callable: ``SeededNoise`` draws from MLX's counter-based RNG,
``RecordedNoise`` replays given draws in order (to reproduce a reference run exactly, or to resume one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import mlx.core as mx

from mlx_ltx_pipelines.types import LatentState


class NoiseSource(Protocol):
    def __call__(self, shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        """Standard-normal noise of ``shape``."""
        ...


class SeededNoise:
    """Standard-normal draws from one seed; successive calls use successive split keys."""

    def __init__(self, seed: int):
        self._key = mx.random.key(seed)

    def __call__(self, shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        self._key, key = mx.random.split(self._key)
        return mx.random.normal(shape, dtype=dtype, key=key)


class RecordedNoise:
    """Replays ``draws`` in call order; a wrong shape or one draw too many is an error."""

    def __init__(self, draws: Sequence[mx.array]):
        self._draws = list(draws)
        self.used = 0

    def __call__(self, shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        if self.used == len(self._draws):
            raise ValueError(f"RecordedNoise: draw {self.used + 1} requested but only {len(self._draws)} were recorded")
        draw = self._draws[self.used]
        if tuple(draw.shape) != tuple(shape):
            raise ValueError(f"RecordedNoise: draw {self.used + 1} has shape {tuple(draw.shape)}, requested {shape}")
        self.used += 1
        return draw.astype(dtype)


def lerp(start: mx.array, end: mx.array, weight: float | mx.array) -> mx.array:
    """``start + weight·(end − start)``, evaluated from the nearer end as torch.lerp does (exact at 0 and 1)."""
    diff = end - start
    small = abs(weight) < 0.5 if isinstance(weight, float | int) else mx.abs(weight) < 0.5
    return mx.where(small, start + weight * diff, end - diff * (1 - weight))


class GaussianNoiser:
    """Noises a state: ``x = lerp(clean, lerp(x, n, noise_scale), denoise_mask)`` in float32, so tokens with
    mask 0 stay clean and mask 1 tokens become ``lerp(x, n, noise_scale)`` (v1.2.0 formula). ``noise`` is a
    seed or a noise source; draws are made in the latent's dtype, video before audio when both are noised."""

    def __init__(self, noise: int | NoiseSource):
        self.noise = SeededNoise(noise) if isinstance(noise, int) else noise

    def __call__(self, latent_state: LatentState, noise_scale: float = 1.0) -> LatentState:
        if not 0.0 <= noise_scale <= 1.0:
            raise ValueError(f"noise_scale={noise_scale} must be in [0, 1] (the first sigma of the stage)")
        noise = self.noise(tuple(latent_state.latent.shape), latent_state.latent.dtype).astype(mx.float32)
        latent = lerp(latent_state.latent.astype(mx.float32), noise, noise_scale)
        latent = lerp(latent_state.clean_latent.astype(mx.float32), latent, latent_state.denoise_mask)
        return replace(latent_state, latent=latent.astype(latent_state.latent.dtype))
