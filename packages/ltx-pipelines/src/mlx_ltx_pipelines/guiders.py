"""Guidance on denoised (x0) predictions (ports ltx_core/components/guiders.py).

``MultiModalGuider`` is what the pipelines use (CFG + STG + modality isolation + rescale, per modality); the
single-term guiders return a delta to add to the conditioned prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mlx.core as mx


def projection_coef(to_project: mx.array, project_onto: mx.array) -> mx.array:
    """Per sample ``<a, b> / (‖b‖² + 1e-8)``, shaped (B, 1, …) to broadcast against the inputs."""
    b = to_project.shape[0]
    a_flat, b_flat = to_project.reshape(b, -1), project_onto.reshape(b, -1)
    coef = mx.sum(a_flat * b_flat, axis=1) / (mx.sum(b_flat * b_flat, axis=1) + 1e-8)
    return coef.reshape(b, *([1] * (to_project.ndim - 1)))


@dataclass(frozen=True)
class CFGGuider:
    """Classifier-free guidance: ``(scale − 1)(cond − uncond)``."""

    scale: float

    def delta(self, cond: mx.array, uncond: mx.array) -> mx.array:
        return (self.scale - 1) * (cond - uncond)

    def enabled(self) -> bool:
        return self.scale != 1.0


@dataclass(frozen=True)
class CFGStarRescalingGuider:
    """CFG* : ``(scale − 1)(cond − k·uncond)`` with ``k`` the projection of cond onto uncond."""

    scale: float

    def delta(self, cond: mx.array, uncond: mx.array) -> mx.array:
        return (self.scale - 1) * (cond - projection_coef(cond, uncond) * uncond)

    def enabled(self) -> bool:
        return self.scale != 1.0


@dataclass(frozen=True)
class STGGuider:
    """Spatio-temporal guidance: ``scale (cond − perturbed)``."""

    scale: float

    def delta(self, pos_denoised: mx.array, perturbed_denoised: mx.array) -> mx.array:
        return self.scale * (pos_denoised - perturbed_denoised)

    def enabled(self) -> bool:
        return self.scale != 0.0


def _apg(guidance: mx.array, cond: mx.array, eta: float, norm_threshold: float) -> mx.array:
    """Clip ‖g‖ (over the last three axes) to ``norm_threshold``, then weight g's part parallel to cond by eta."""
    if norm_threshold > 0:
        norm = mx.sqrt(mx.sum(guidance * guidance, axis=(-1, -2, -3), keepdims=True))
        guidance = guidance * mx.minimum(mx.ones_like(guidance), norm_threshold / norm)
    parallel = projection_coef(guidance, cond) * cond
    return parallel * eta + (guidance - parallel)


@dataclass(frozen=True)
class LtxAPGGuider:
    """Adaptive projected guidance: ``(scale − 1)·(η·g∥ + g⊥)`` with ``g = cond − uncond``."""

    scale: float
    eta: float = 1.0
    norm_threshold: float = 0.0

    def delta(self, cond: mx.array, uncond: mx.array) -> mx.array:
        return _apg(cond - uncond, cond, self.eta, self.norm_threshold) * (self.scale - 1)

    def enabled(self) -> bool:
        return self.scale != 1.0


@dataclass
class LegacyStatefulAPGGuider:
    """APG with a momentum average of the guidance across calls (one instance per denoising run and modality):
    ``scale·(η·g∥ + g⊥)``."""

    scale: float
    eta: float
    norm_threshold: float = 5.0
    momentum: float = 0.0
    running_avg: mx.array | None = None

    def delta(self, cond: mx.array, uncond: mx.array) -> mx.array:
        guidance = cond - uncond
        if self.momentum != 0:
            self.running_avg = guidance if self.running_avg is None else self.momentum * self.running_avg + guidance
            guidance = self.running_avg
        return _apg(guidance, cond, self.eta, self.norm_threshold) * self.scale

    def enabled(self) -> bool:
        return self.scale != 0.0


@dataclass(frozen=True)
class MultiModalGuiderParams:
    """One modality's guidance: CFG scale (1 = off), STG scale (0 = off) on the ``stg_blocks`` self-attentions,
    rescale toward the conditioned std (0 = off, 1 = full), modality-isolation scale (1 = off), and
    ``skip_step`` N (guidance computed on every (N+1)-th step, reused in between)."""

    cfg_scale: float = 1.0
    stg_scale: float = 0.0
    stg_blocks: tuple[int, ...] = ()  # a list or None is accepted too and stored as a tuple
    rescale_scale: float = 0.0
    modality_scale: float = 1.0
    skip_step: int = 0
    # Adaptive projected guidance for the CFG term (``--apg``): None = plain CFG; else (eta, norm_threshold).
    apg: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stg_blocks", tuple(self.stg_blocks or ()))
        if any(int(b) != b or b < 0 for b in self.stg_blocks):
            raise ValueError(f"stg_blocks={list(self.stg_blocks)} must be transformer block indices (>= 0)")
        if not 0.0 <= self.rescale_scale <= 1.0:
            raise ValueError(f"rescale_scale={self.rescale_scale} must be in [0, 1] (0 = no rescale)")
        if int(self.skip_step) != self.skip_step or self.skip_step < 0:
            raise ValueError(f"skip_step={self.skip_step} must be an integer >= 0 (0 = guide every step)")


@dataclass(frozen=True)
class MultiModalGuider:
    """Combines one modality's passes: ``c + (cfg−1)(c − u) + stg(c − p) + (mod−1)(c − m)``, then
    ``× (r·std(c)/std(pred) + 1 − r)`` (unbiased std over the whole tensor), in float32."""

    params: MultiModalGuiderParams
    negative_context: mx.array | None = None

    def calculate(
        self,
        cond: mx.array,
        uncond_text: mx.array | float,
        uncond_perturbed: mx.array | float,
        uncond_modality: mx.array | float,
    ) -> mx.array:
        """The guided x0 (dtype of ``cond``); a pass that did not run is passed as 0.0 (its scale is neutral)."""
        p, dtype = self.params, cond.dtype

        def f32(x: mx.array | float) -> mx.array | float:
            return x.astype(mx.float32) if isinstance(x, mx.array) else x

        c = cond.astype(mx.float32)
        if p.apg is not None and isinstance(uncond_text, mx.array):
            cfg_term = LtxAPGGuider(p.cfg_scale, *p.apg).delta(c, uncond_text.astype(mx.float32))
        else:
            cfg_term = (p.cfg_scale - 1) * (c - f32(uncond_text))
        pred = (
            c
            + cfg_term
            + p.stg_scale * (c - f32(uncond_perturbed))
            + (p.modality_scale - 1) * (c - f32(uncond_modality))
        )
        if p.rescale_scale != 0:
            factor = mx.std(c, ddof=1) / mx.std(pred, ddof=1)
            pred = pred * (p.rescale_scale * factor + (1 - p.rescale_scale))
        return pred.astype(dtype)

    def do_unconditional_generation(self) -> bool:
        return not math.isclose(self.params.cfg_scale, 1.0)

    def do_perturbed_generation(self) -> bool:
        return not math.isclose(self.params.stg_scale, 0.0)

    def do_isolated_modality_generation(self) -> bool:
        return not math.isclose(self.params.modality_scale, 1.0)

    def should_skip_step(self, step: int) -> bool:
        """True on the steps that reuse the previous guided result."""
        return self.params.skip_step != 0 and step % (self.params.skip_step + 1) != 0


def _params_for_sigma(
    sigma: float, params_by_sigma: Sequence[tuple[float, MultiModalGuiderParams]]
) -> MultiModalGuiderParams:
    """Bins (key_{i+1}, key_i] of descending keys; a sigma above every key uses the largest key's params."""
    keys_ge = [k for k, _ in params_by_sigma if k >= sigma]
    key = keys_ge[-1] if keys_ge else params_by_sigma[0][0]
    return next(p for k, p in params_by_sigma if k == key)


@dataclass(frozen=True)
class MultiModalGuiderFactory:
    """Guider params chosen per step by sigma bins (``from_dict({sigma_upper_bound: params})``)."""

    negative_context: mx.array | None = None
    _params_by_sigma: tuple[tuple[float, MultiModalGuiderParams], ...] = ()

    @classmethod
    def constant(
        cls, params: MultiModalGuiderParams, negative_context: mx.array | None = None
    ) -> MultiModalGuiderFactory:
        return cls(negative_context, ((float("inf"), params),))

    @classmethod
    def from_dict(
        cls, sigma_to_params: Mapping[float, MultiModalGuiderParams], negative_context: mx.array | None = None
    ) -> MultiModalGuiderFactory:
        if not sigma_to_params:
            raise ValueError("sigma_to_params is empty: give at least one {sigma_upper_bound: params}")
        return cls(negative_context, tuple(sorted(sigma_to_params.items(), key=lambda kv: kv[0], reverse=True)))

    def params(self, sigma: float | mx.array) -> MultiModalGuiderParams:
        if not self._params_by_sigma:
            raise ValueError("MultiModalGuiderFactory has no params: use constant() or from_dict()")
        return _params_for_sigma(float(sigma), self._params_by_sigma)

    def build_from_sigma(self, sigma: float | mx.array) -> MultiModalGuider:
        return MultiModalGuider(self.params(sigma), self.negative_context)


def create_multimodal_guider_factory(
    params: MultiModalGuiderParams | MultiModalGuiderFactory, negative_context: mx.array | None = None
) -> MultiModalGuiderFactory:
    """A factory from constant params, or the given factory (with ``negative_context`` if one is passed)."""
    if isinstance(params, MultiModalGuiderFactory):
        if negative_context is not None and params.negative_context is not negative_context:
            return MultiModalGuiderFactory(negative_context, params._params_by_sigma)
        return params
    return MultiModalGuiderFactory.constant(params, negative_context)
