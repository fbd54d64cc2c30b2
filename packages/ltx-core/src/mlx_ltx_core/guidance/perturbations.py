"""Attention perturbations for STG and modality isolation, per sample (ports ltx_core/guidance/perturbations.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import mlx.core as mx


class PerturbationType(Enum):
    SKIP_A2V_CROSS_ATTN = "skip_a2v_cross_attn"
    SKIP_V2A_CROSS_ATTN = "skip_v2a_cross_attn"
    SKIP_VIDEO_SELF_ATTN = "skip_video_self_attn"
    SKIP_AUDIO_SELF_ATTN = "skip_audio_self_attn"


@dataclass(frozen=True)
class Perturbation:
    """Skip one kind of attention in ``blocks`` (None = every block)."""

    type: PerturbationType
    blocks: tuple[int, ...] | list[int] | None = None

    def is_perturbed(self, perturbation_type: PerturbationType, block: int) -> bool:
        return self.type == perturbation_type and (self.blocks is None or block in self.blocks)


@dataclass(frozen=True)
class PerturbationConfig:
    """The perturbations applied to one sample of the batch."""

    perturbations: tuple[Perturbation, ...] | list[Perturbation] = field(default_factory=tuple)

    def is_perturbed(self, perturbation_type: PerturbationType, block: int) -> bool:
        return any(p.is_perturbed(perturbation_type, block) for p in self.perturbations or ())

    @staticmethod
    def empty() -> PerturbationConfig:
        return PerturbationConfig(())


@dataclass(frozen=True)
class BatchedPerturbationConfig:
    """One ``PerturbationConfig`` per batch sample; masks are 1 where attention runs and 0 where it is skipped."""

    perturbations: tuple[PerturbationConfig, ...] | list[PerturbationConfig]

    def mask(self, perturbation_type: PerturbationType, block: int, dtype: mx.Dtype = mx.float32) -> mx.array:
        """(B,) mask."""
        keep = [0.0 if p.is_perturbed(perturbation_type, block) else 1.0 for p in self.perturbations]
        return mx.array(keep, dtype=dtype)

    def mask_like(self, perturbation_type: PerturbationType, block: int, values: mx.array) -> mx.array:
        """Mask shaped (B, 1, …) to broadcast against ``values``."""
        m = self.mask(perturbation_type, block, values.dtype)
        return m.reshape(m.shape[0], *([1] * (values.ndim - 1)))

    def any_in_batch(self, perturbation_type: PerturbationType, block: int) -> bool:
        return any(p.is_perturbed(perturbation_type, block) for p in self.perturbations)

    def all_in_batch(self, perturbation_type: PerturbationType, block: int) -> bool:
        return all(p.is_perturbed(perturbation_type, block) for p in self.perturbations)

    @staticmethod
    def empty(batch_size: int) -> BatchedPerturbationConfig:
        return BatchedPerturbationConfig(tuple(PerturbationConfig.empty() for _ in range(batch_size)))
