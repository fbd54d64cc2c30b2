"""What the one-stage task pipelines share (retake, extend, text-to-audio, Foley): the ledger, the distilled or guided
denoiser of their stage and the checks of its fields (ports the denoiser set-up of ltx_pipelines/retake.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlx.core as mx

from mlx_ltx_pipelines.denoisers import Denoiser, GuidedDenoiser, SimpleDenoiser
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.guiders import MultiModalGuider, MultiModalGuiderParams
from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT, PipelineParams, params_for
from mlx_ltx_pipelines.pipelines.base import check_tiling
from mlx_ltx_pipelines.preflight import MemoryEstimate, decode_estimate, denoise_estimate
from mlx_ltx_pipelines.schedulers import LTX2Scheduler, distilled_sigmas
from mlx_ltx_pipelines.stages import Progress, denoise, encode_prompts, free
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VideoPixelShape


@dataclass(frozen=True, kw_only=True)
class GuidanceFields:
    """The guidance fields of the task requests (``distilled=False`` only; None: the version's defaults)."""

    negative_prompt: str | None = None
    num_inference_steps: int | None = None
    video_guider_params: MultiModalGuiderParams | None = None
    audio_guider_params: MultiModalGuiderParams | None = None


@dataclass(frozen=True)
class Guidance:
    """The guided (dev) variant's settings; None: the model version's defaults."""

    negative_prompt: str | None = None
    num_inference_steps: int | None = None
    video_guider_params: MultiModalGuiderParams | None = None
    audio_guider_params: MultiModalGuiderParams | None = None


class EditingPipeline:
    """``distilled=True`` (the reference's default): the 8 distilled sigmas and no guidance; ``False``: a dev model,
    ``LTX2Scheduler(steps)`` sigmas and CFG / STG / modality guidance."""

    name = "editing"

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        distilled: bool = True,
        loras: Sequence[LoRA] = (),
        dtype: mx.Dtype | None = None,
        compute_dtype: mx.Dtype | None = None,
        lora_mode: str = "auto",
        low_memory: bool = False,
    ):
        self.ledger = ModelLedger(
            Path(model_path), text_encoder_path, dtype, tuple(loras), compute_dtype, lora_mode, low_memory
        )
        self.distilled = distilled
        self.params: PipelineParams = params_for(self.ledger.model_version, "distilled" if distilled else "dev")

    def check_common(self, guidance: Guidance, seed: int | None, tiling: str) -> None:
        if self.distilled:
            given = [k for k, v in vars(guidance).items() if v is not None]
            if given:
                raise ParameterError(given[0], f"{given[0]}= applies to distilled=False (a dev model); leave it out")
        elif guidance.num_inference_steps is not None and guidance.num_inference_steps < 1:
            raise ParameterError(
                "num_inference_steps", f"num_inference_steps={guidance.num_inference_steps} must be >= 1"
            )
        if seed is not None and seed < 0:
            raise ParameterError("seed", f"seed={seed} must be >= 0")
        check_tiling(tiling)

    def stage_estimates(self, shape: VideoPixelShape, with_audio: bool, tiling: str) -> list[MemoryEstimate]:
        """Estimated peaks of the one stage at ``shape`` and of its decode, before anything loads."""
        p = self.params.video_guider_params
        passes = 1 if self.distilled else 1 + (p.cfg_scale != 1.0) + (p.stg_scale != 0.0) + (p.modality_scale != 1.0)
        return [denoise_estimate(self.ledger, shape, passes, with_audio), decode_estimate(self.ledger, shape, tiling)]

    def seed(self, seed: int | None) -> int:
        return self.params.seed if seed is None else seed

    def sigmas(self, guidance: Guidance) -> mx.array:
        if self.distilled:
            return distilled_sigmas()
        return LTX2Scheduler().execute(guidance.num_inference_steps or self.params.num_inference_steps)

    def contexts(
        self, prompt: str, guidance: Guidance, enhance: bool, seed: int, progress: Progress
    ) -> list[tuple[mx.array, mx.array]]:
        """[(video, audio) context] of the prompt, then of the negative prompt when guided (Gemma freed after)."""
        prompts = [prompt] if self.distilled else [prompt, guidance.negative_prompt or DEFAULT_NEGATIVE_PROMPT]
        return encode_prompts(self.ledger, prompts, enhance, seed, progress)

    def denoiser(
        self, contexts: list[tuple[mx.array, mx.array]], guidance: Guidance, with_video: bool, with_audio: bool
    ) -> Denoiser:
        """A fresh denoiser for one stage (a guided denoiser keeps per-stage state)."""
        v_pos, a_pos = contexts[0]
        v_pos, a_pos = (v_pos if with_video else None), (a_pos if with_audio else None)
        if self.distilled:
            return SimpleDenoiser(v_pos, a_pos)
        v_neg, a_neg = contexts[1]
        video = guidance.video_guider_params or self.params.video_guider_params
        audio = guidance.audio_guider_params or self.params.audio_guider_params
        audio = audio if with_video else self.audio_only(audio)
        return GuidedDenoiser(
            v_pos,
            a_pos,
            MultiModalGuider(video, v_neg) if with_video else None,
            MultiModalGuider(audio, a_neg) if with_audio else None,
        )

    def one_stage(
        self,
        shape: VideoPixelShape,
        video: ModalitySpec | None,
        audio: ModalitySpec | None,
        seed: int,
        guidance: Guidance,
        denoiser: Denoiser,
        progress: Progress,
        label: str,
    ) -> tuple[mx.array, mx.array | None]:
        """The transformer loaded, one stage denoised at ``shape`` (the seed's noise), the transformer dropped."""
        model = self.ledger.transformer()
        out = denoise(
            model, shape, video, audio, GaussianNoiser(seed), self.sigmas(guidance), denoiser, progress, label
        )
        del model
        free()
        mx.eval([x for x in out if x is not None])
        return out

    @staticmethod
    def audio_only(params: MultiModalGuiderParams) -> MultiModalGuiderParams:
        """Without a video stream the video→audio isolation term means nothing: modality_scale 1 (the T2A CLI)."""
        from dataclasses import replace

        return replace(params, modality_scale=1.0)


def fields_of(request: Any) -> Guidance:
    """The guidance fields of a request."""
    return Guidance(
        request.negative_prompt, request.num_inference_steps, request.video_guider_params, request.audio_guider_params
    )
