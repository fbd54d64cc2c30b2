"""Where a training step's random numbers come from.

The reference draws σ, noise and condition choices from the training device's torch generator in a fixed order
(trainer.md §3.11); ``mx.random`` cannot reproduce that stream. A step therefore takes a ``Draws`` source:
``KeyDraws`` (``mx.random`` from an explicit key, whose state checkpoints save for a bit-for-bit resume) or
``RecordedDraws`` (arrays recorded from the reference, consumed in order; the parity tests inject them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import mlx.core as mx
import numpy as np


class Draws(Protocol):
    """``randn(shape, dtype)`` ~ N(0, 1) (``torch.randn`` / ``randn_like``) and ``rand(shape)`` ~ U[0, 1) float32."""

    def randn(self, shape: Sequence[int], dtype: mx.Dtype = mx.float32) -> mx.array: ...

    def rand(self, shape: Sequence[int]) -> mx.array: ...


class KeyDraws:
    """``mx.random`` draws from an explicit key, split once per draw; ``state`` / ``from_state`` round-trip it."""

    def __init__(self, seed: int = 0, key: mx.array | None = None):
        self.key = mx.random.key(seed) if key is None else key

    def _next(self) -> mx.array:
        self.key, sub = mx.random.split(self.key)
        return sub

    def randn(self, shape: Sequence[int], dtype: mx.Dtype = mx.float32) -> mx.array:
        return mx.random.normal(tuple(shape), key=self._next()).astype(dtype)

    def rand(self, shape: Sequence[int]) -> mx.array:
        return mx.random.uniform(shape=tuple(shape), key=self._next())

    @property
    def state(self) -> np.ndarray:
        return np.array(self.key)

    @classmethod
    def from_state(cls, state: np.ndarray) -> KeyDraws:
        return cls(key=mx.array(np.asarray(state, dtype=np.uint32)))


class RecordedDraws:
    """Replays recorded draws in order; a draw of another shape, or one too many, is an error (the consumption
    order is part of the reference's semantics)."""

    def __init__(self, arrays: Sequence[mx.array | np.ndarray]):
        self._arrays = [mx.array(a) for a in arrays]
        self._i = 0

    def _next(self, shape: Sequence[int], kind: str) -> mx.array:
        if self._i >= len(self._arrays):
            raise IndexError(f"draw {self._i} ({kind} {tuple(shape)}) was not recorded")
        a = self._arrays[self._i]
        if tuple(a.shape) != tuple(shape):
            raise ValueError(f"draw {self._i}: recorded shape {tuple(a.shape)}, the step asks {kind} {tuple(shape)}")
        self._i += 1
        return a

    def randn(self, shape: Sequence[int], dtype: mx.Dtype = mx.float32) -> mx.array:
        return self._next(shape, "randn").astype(dtype)

    def rand(self, shape: Sequence[int]) -> mx.array:
        return self._next(shape, "rand").astype(mx.float32)

    @property
    def remaining(self) -> int:
        return len(self._arrays) - self._i
