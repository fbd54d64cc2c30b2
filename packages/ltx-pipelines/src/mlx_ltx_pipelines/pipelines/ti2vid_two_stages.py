"""Dev checkpoint, two stages: guided stage 1 at half size, distilled-LoRA refinement at full size
(ports ltx_pipelines/ti2vid_two_stages.py, keyframe_interpolation.py and ti2vid_two_stages_hq.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

import mlx.core as mx

from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT, HQ_DISTILLED_LORA_STRENGTHS
from mlx_ltx_pipelines.pipelines.base import Pipeline, RefineInputs, noiser_for
from mlx_ltx_pipelines.request import IC_LORA_FIELDS, GenerationRequest
from mlx_ltx_pipelines.res2s import Res2sSampler
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.samplers import EulerSampler, Sampler
from mlx_ltx_pipelines.schedulers import LTX2Scheduler
from mlx_ltx_pipelines.stages import (
    Progress,
    denoise,
    encode_prompts,
    free,
    no_progress,
    tools_for,
    upsample,
)
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VideoPixelShape


class TI2VidTwoStagesPipeline(Pipeline):
    """Stage 1: Euler over ``LTX2Scheduler(num_inference_steps)`` with CFG/STG/modality guidance at half size.
    Stage 2: ×2 upsampling, then 3 distilled steps with the distilled LoRA fused (no guidance)."""

    name = "dev-two-stage"
    guided = True
    needs_distilled_lora = True
    positional = ("prompt", "negative_prompt")
    ignored = IC_LORA_FIELDS
    lora_strengths: tuple[float | None, float] = (None, 1.0)  # distilled-LoRA strength per stage (None: not fused)

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        distilled_lora: LoRA,
        loras: Sequence[LoRA] = (),
        distilled_lora_strengths: tuple[float | None, float] | None = None,
        dtype: mx.Dtype | None = None,
        compute_dtype: mx.Dtype | None = None,
        lora_mode: str = "auto",
        low_memory: bool = False,
    ):
        super().__init__(
            model_path,
            text_encoder_path,
            loras=loras,
            dtype=dtype,
            compute_dtype=compute_dtype,
            lora_mode=lora_mode,
            low_memory=low_memory,
        )
        strengths = distilled_lora_strengths or self.lora_strengths
        base = tuple(loras)
        first = base if strengths[0] is None else (*base, replace(distilled_lora, strength=strengths[0]))
        self.stage_1 = self.ledger.with_loras(first)
        self.stage_2 = self.ledger.with_loras((*base, replace(distilled_lora, strength=strengths[1])))

    def run(self, request: GenerationRequest, progress: Progress = no_progress) -> GenerationResult:
        r, p, plan = request, self.params, self.plan(request)
        # 1. Positive and negative prompts; input audio → frozen latent (A2V); images at both stage sizes.
        prompts = [r.prompt, r.negative_prompt or DEFAULT_NEGATIVE_PROMPT]
        contexts = encode_prompts(self.ledger, prompts, r.enhance_prompt, plan.seed, progress)
        audio_spec, input_audio = self.audio_spec(r.audio, plan.num_frames, plan.frame_rate, r.generate_audio)
        with_audio = audio_spec is not None
        cond_1, cond_2 = self.encode_images(r.images, self.image_mode(r), plan.small, plan.full)
        # 2. Guided stage 1 at half size.
        model, noiser, sampler = self.stage_1.transformer(), noiser_for(plan.seed), self.sampler(plan.seed)
        denoiser = self.guided_denoiser(
            contexts,
            r.video_guider_params or p.video_guider_params,
            r.audio_guider_params or p.audio_guider_params,
            with_audio,
            r.audio is not None,
        )
        sigmas = self.stage_1_sigmas(r.num_inference_steps or p.num_inference_steps, plan.small, model)
        stage_1 = ModalitySpec(conditionings=cond_1)
        video, audio_latent = denoise(
            model, plan.small, stage_1, audio_spec, noiser, sigmas, denoiser, progress, "stage 1", sampler
        )
        del model
        free()
        # 3. ×2 (or ×1.5) upsampling; 4. distilled-LoRA refinement; 5. the temporal round.
        video = upsample(self.ledger, video, progress, plan.spatial_upscale)
        model = self.stage_2.transformer()
        refiner = self.simple_denoiser(contexts[0], with_audio)
        stage_2 = RefineInputs(plan.full, video, audio_latent, cond_2, r.audio is not None, noiser, refiner, sampler)
        video, audio_latent = self.refine(model, stage_2, progress)
        video = self.temporal(model, video, cond_2, plan, noiser, contexts[0][0], progress)
        del model
        free()
        return self.finish(video, audio_latent, input_audio, plan, r.tiling)

    def sampler(self, seed: int) -> Sampler:
        """The loop of both stages: Euler (the HQ pipeline: res_2s)."""
        return EulerSampler()

    def stage_1_sigmas(self, steps: int, small: VideoPixelShape, model) -> mx.array:
        return LTX2Scheduler().execute(steps)


class KeyframeInterpolationPipeline(TI2VidTwoStagesPipeline):
    """Every image (frame 0 too) is appended as a keyframe at its frame index (ports keyframe_interpolation.py)."""

    name = "keyframe"

    def check(self, request: GenerationRequest) -> None:
        super().check(request)
        if not request.images:
            raise ValueError("the keyframe pipeline interpolates between images: pass images=[ImageConditioningInput]")

    def image_mode(self, request: GenerationRequest) -> str:
        return "guide"


class TI2VidTwoStagesHQPipeline(TI2VidTwoStagesPipeline):
    """res_2s in both stages, 15 steps, STG off, the distilled LoRA at 0.25 (stage 1) and 0.5 (stage 2)."""

    name = "dev-two-stage-hq"
    lora_strengths = HQ_DISTILLED_LORA_STRENGTHS

    def sampler(self, seed: int) -> Sampler:
        return Res2sSampler(noise_seed=seed)

    def stage_1_sigmas(self, steps: int, small: VideoPixelShape, model) -> mx.array:
        # The shift follows the stage-1 latent's token count.
        video_tools, _ = tools_for(small, model.args)
        return LTX2Scheduler().execute(steps, num_tokens=video_tools.target_shape.token_count())
