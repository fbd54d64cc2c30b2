"""Denoisers: one step's x0 predictions from the transformer (ports ltx_pipelines/utils/denoisers.py).

A denoiser gets the transformer at call time (``X0Model`` or anything callable like it, e.g. a wrapper that counts
evaluations) and returns ``(x0_video, x0_audio)``, None for an absent modality. ``GuidedDenoiser`` stacks its
guidance passes (cond, uncond, STG, isolation) into one batched forward per step (as v1.2.0 does; the reference
1.0.0 runs them one by one, ``batch_passes=False``), each sample carrying its pass's context and perturbations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import mlx.core as mx

from mlx_ltx_core.guidance.perturbations import (
    BatchedPerturbationConfig,
    Perturbation,
    PerturbationConfig,
    PerturbationType,
)
from mlx_ltx_core.model.transformer import Modality
from mlx_ltx_core.model.transformer.constants import ConstantsCache, cached
from mlx_ltx_core.model.transformer.modality import batch_size
from mlx_ltx_pipelines.guiders import MultiModalGuider, MultiModalGuiderFactory, MultiModalGuiderParams
from mlx_ltx_pipelines.states import modality_from_latent_state
from mlx_ltx_pipelines.types import LatentState

Prediction = tuple[mx.array | None, mx.array | None]


class DenoisingModel(Protocol):
    """``X0Model``'s call: (video, audio, perturbations) → (x0_video, x0_audio)."""

    def __call__(
        self, video: Modality | None, audio: Modality | None, perturbations: BatchedPerturbationConfig | None = None
    ) -> Prediction: ...


class Denoiser(Protocol):
    def __call__(
        self,
        transformer: DenoisingModel,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        sigmas: mx.array,
        step_index: int,
    ) -> Prediction:
        """x0 predictions at ``sigmas[step_index]``."""
        ...


def _modality(state: LatentState | None, context: mx.array | None, sigma: mx.array, enabled: bool) -> Modality | None:
    if state is None:
        return None
    if context is None:
        raise ValueError("a prompt context is required for every modality that has a state")
    return modality_from_latent_state(state, context, mx.broadcast_to(sigma, (state.latent.shape[0],)), enabled)


class SimpleDenoiser:
    """One transformer evaluation per step, no guidance (distilled pipelines)."""

    def __init__(self, v_context: mx.array | None, a_context: mx.array | None):
        self.v_context, self.a_context = v_context, a_context

    def __call__(
        self,
        transformer: DenoisingModel,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        sigmas: mx.array,
        step_index: int,
    ) -> Prediction:
        sigma = sigmas[step_index]
        video = _modality(video_state, self.v_context, sigma, True)
        audio = _modality(audio_state, self.a_context, sigma, True)
        return transformer(video, audio, None)


@dataclass(frozen=True)
class GuidancePass:
    """One forward of a guided step: its contexts and the perturbations applied to every sample."""

    name: str  # "cond", "uncond", "ptb" (STG) or "mod" (modality isolation)
    v_context: mx.array | None
    a_context: mx.array | None
    perturbations: PerturbationConfig


_POSITIVE_ONLY = MultiModalGuider(MultiModalGuiderParams())


def guidance_passes(
    video_guider: MultiModalGuider,
    audio_guider: MultiModalGuider,
    v_context: mx.array | None,
    a_context: mx.array | None,
    force_uncond_pass: bool = False,
) -> list[GuidancePass]:
    """The passes one guided step needs: cond always; uncond (negative prompts) if either CFG is on; STG
    (self-attention skipped in ``stg_blocks``) if either STG is on; isolation (A↔V cross-attention skipped in
    every block) if either modality scale is on."""
    passes = [GuidancePass("cond", v_context, a_context, PerturbationConfig.empty())]
    v_neg = video_guider.do_unconditional_generation() or (force_uncond_pass and v_context is not None)
    a_neg = audio_guider.do_unconditional_generation() or (force_uncond_pass and a_context is not None)
    if v_neg or a_neg:
        for needed, guider in ((v_neg, video_guider), (a_neg, audio_guider)):
            if needed and guider.negative_context is None:
                raise ValueError("CFG needs a negative prompt context: pass negative_context to the guider")
        v_uncond = video_guider.negative_context if video_guider.negative_context is not None else v_context
        a_uncond = audio_guider.negative_context if audio_guider.negative_context is not None else a_context
        passes.append(GuidancePass("uncond", v_uncond, a_uncond, PerturbationConfig.empty()))
    stg = []
    if video_guider.do_perturbed_generation():
        stg.append(Perturbation(PerturbationType.SKIP_VIDEO_SELF_ATTN, tuple(video_guider.params.stg_blocks)))
    if audio_guider.do_perturbed_generation():
        stg.append(Perturbation(PerturbationType.SKIP_AUDIO_SELF_ATTN, tuple(audio_guider.params.stg_blocks)))
    if stg:
        passes.append(GuidancePass("ptb", v_context, a_context, PerturbationConfig(tuple(stg))))
    if video_guider.do_isolated_modality_generation() or audio_guider.do_isolated_modality_generation():
        iso = (Perturbation(PerturbationType.SKIP_A2V_CROSS_ATTN), Perturbation(PerturbationType.SKIP_V2A_CROSS_ATTN))
        passes.append(GuidancePass("mod", v_context, a_context, PerturbationConfig(iso)))
    return passes


def run_pass(
    transformer: DenoisingModel,
    p: GuidancePass,
    video_state: LatentState | None,
    audio_state: LatentState | None,
    sigma: mx.array,
    enabled: tuple[bool, bool],
) -> Prediction:
    """One forward of ``p`` (batch B, the pass's perturbations on every sample)."""
    video = _modality(video_state, p.v_context, sigma, enabled[0])
    audio = _modality(audio_state, p.a_context, sigma, enabled[1])
    batch = batch_size(video, audio)
    perturbations = BatchedPerturbationConfig(tuple(p.perturbations for _ in range(batch)))
    return transformer(video, audio, perturbations if p.perturbations.perturbations else None)


def run_passes_batched(
    transformer: DenoisingModel,
    passes: Sequence[GuidancePass],
    video_state: LatentState | None,
    audio_state: LatentState | None,
    sigma: mx.array,
    enabled: tuple[bool, bool],
    cache: ConstantsCache | None = None,
) -> dict[str, Prediction]:
    """All passes of a step as one forward: the batch is stacked per pass (each sample keeps its pass's context and
    perturbations, which the transformer applies per sample), then split back. Same results as ``run_pass`` each.
    ``cache`` (one per stage) keeps the stacked positions, contexts and masks from step to step."""
    if len(passes) == 1:
        return {passes[0].name: run_pass(transformer, passes[0], video_state, audio_state, sigma, enabled)}
    videos = [_modality(video_state, p.v_context, sigma, enabled[0]) for p in passes]
    audios = [_modality(audio_state, p.a_context, sigma, enabled[1]) for p in passes]
    batch = batch_size(videos[0], audios[0])
    perturbations = BatchedPerturbationConfig(tuple(p.perturbations for p in passes for _ in range(batch)))
    den_v, den_a = transformer(_stack(videos, cache), _stack(audios, cache), perturbations)

    def rows(d: mx.array | None, i: int) -> mx.array | None:
        return None if d is None else d[i * batch : (i + 1) * batch]

    return {p.name: (rows(den_v, i), rows(den_a, i)) for i, p in enumerate(passes)}


_PER_STEP = ("latent", "sigma", "timesteps")
_PER_STAGE = ("positions", "context", "context_mask", "attention_mask")  # the same arrays at every step


def _stack(modalities: list[Modality | None], cache: ConstantsCache | None = None) -> Modality | None:
    """The passes' modalities as one batch; the per-stage fields are stacked once per stage through ``cache`` (so
    the transformer's own per-stage constants, keyed by these arrays, are computed once too)."""
    if modalities[0] is None:
        return None
    fields = {}
    for name in (*_PER_STEP, *_PER_STAGE):
        values = tuple(getattr(m, name) for m in modalities)
        if values[0] is None:
            fields[name] = None
        elif name in _PER_STAGE:
            fields[name] = cached(cache, name, values, lambda v=values: mx.concatenate(list(v), axis=0))
        else:
            fields[name] = mx.concatenate(list(values), axis=0)
    return Modality(enabled=modalities[0].enabled, **fields)


def _prediction(out: dict[str, Prediction], name: str, m: int) -> mx.array | float:
    """Pass ``name``'s prediction of modality ``m``; 0.0 (a neutral term) when the pass did not run."""
    if name not in out:
        return 0.0
    d = out[name][m]
    assert d is not None  # every pass predicts each modality that the cond pass does
    return d


class _GuidedBase:
    def __init__(
        self, v_context: mx.array | None, a_context: mx.array | None, force_uncond_pass: bool, batch_passes: bool
    ):
        self.v_context, self.a_context = v_context, a_context
        self.force_uncond_pass = force_uncond_pass
        # One forward per step with the passes stacked in the batch (fewer weight reads; more activation memory).
        self.batch_passes = batch_passes
        self._last: Prediction = (None, None)
        self._stacked = ConstantsCache()  # a denoiser serves one stage: its stacked contexts and positions

    def _guided(
        self,
        transformer: DenoisingModel,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        sigma: mx.array,
        guiders: tuple[MultiModalGuider | None, MultiModalGuider | None],
        step_index: int,
    ) -> Prediction:
        vg, ag = (g if g is not None else _POSITIVE_ONLY for g in guiders)
        skip = (vg.should_skip_step(step_index), ag.should_skip_step(step_index))
        if all(skip):
            return self._last
        passes = guidance_passes(
            vg,
            ag,
            self.v_context if video_state is not None else None,
            self.a_context if audio_state is not None else None,
            self.force_uncond_pass,
        )
        enabled = (not skip[0], not skip[1])
        if self.batch_passes:
            out = run_passes_batched(transformer, passes, video_state, audio_state, sigma, enabled, self._stacked)
        else:
            out = {p.name: run_pass(transformer, p, video_state, audio_state, sigma, enabled) for p in passes}
        results = []
        for m, guider, skipped in ((0, vg, skip[0]), (1, ag, skip[1])):
            cond = out["cond"][m]
            if cond is None or skipped:
                results.append(self._last[m] if skipped else None)
                continue
            extra = [_prediction(out, n, m) for n in ("uncond", "ptb", "mod")]
            results.append(guider.calculate(cond, *extra))
        self._last = (results[0], results[1])
        return self._last


class GuidedDenoiser(_GuidedBase):
    """Multi-modal guidance with fixed guiders (a None guider = conditioned pass only for that modality)."""

    def __init__(
        self,
        v_context: mx.array | None,
        a_context: mx.array | None,
        video_guider: MultiModalGuider | None = None,
        audio_guider: MultiModalGuider | None = None,
        force_uncond_pass: bool = False,
        batch_passes: bool = True,
    ):
        super().__init__(v_context, a_context, force_uncond_pass, batch_passes)
        self.video_guider, self.audio_guider = video_guider, audio_guider

    def __call__(
        self,
        transformer: DenoisingModel,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        sigmas: mx.array,
        step_index: int,
    ) -> Prediction:
        guiders = (self.video_guider, self.audio_guider)
        return self._guided(transformer, video_state, audio_state, sigmas[step_index], guiders, step_index)


class FactoryGuidedDenoiser(_GuidedBase):
    """Multi-modal guidance whose params are chosen per step from the sigma (audio falls back to the video
    factory when it has none)."""

    def __init__(
        self,
        v_context: mx.array | None,
        a_context: mx.array | None,
        video_guider_factory: MultiModalGuiderFactory | None = None,
        audio_guider_factory: MultiModalGuiderFactory | None = None,
        force_uncond_pass: bool = False,
        batch_passes: bool = True,
    ):
        super().__init__(v_context, a_context, force_uncond_pass, batch_passes)
        self.video_guider_factory, self.audio_guider_factory = video_guider_factory, audio_guider_factory
        self._sigma_values: Sequence[float] | None = None

    def __call__(
        self,
        transformer: DenoisingModel,
        video_state: LatentState | None,
        audio_state: LatentState | None,
        sigmas: mx.array,
        step_index: int,
    ) -> Prediction:
        if self._sigma_values is None:
            self._sigma_values = cast(list[float], sigmas.tolist())  # a 1-D array: a list of floats
        sigma = self._sigma_values[step_index]
        vf, af = self.video_guider_factory, self.audio_guider_factory or self.video_guider_factory
        guiders = (vf.build_from_sigma(sigma) if vf else None, af.build_from_sigma(sigma) if af else None)
        return self._guided(transformer, video_state, audio_state, sigmas[step_index], guiders, step_index)
