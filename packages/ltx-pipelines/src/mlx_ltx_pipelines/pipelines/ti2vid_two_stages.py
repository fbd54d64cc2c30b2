"""Dev checkpoint, two stages: guided stage 1 at half size, distilled-LoRA refinement at full size
(ports ltx_pipelines/ti2vid_two_stages.py, keyframe_interpolation.py and ti2vid_two_stages_hq.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

import mlx.core as mx

from mlx_ltx_pipelines.guiders import MultiModalGuiderParams
from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT, HQ_DISTILLED_LORA_STRENGTHS
from mlx_ltx_pipelines.pipelines.base import Pipeline, noiser_for
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import LTX2Scheduler
from mlx_ltx_pipelines.stages import (
    AudioConditioningInput,
    ImageConditioningInput,
    Progress,
    denoise,
    encode_prompts,
    free,
    no_progress,
    tools_for,
    upsample,
)
from mlx_ltx_pipelines.states import ModalitySpec


class TI2VidTwoStagesPipeline(Pipeline):
    """Stage 1: Euler over ``LTX2Scheduler(num_inference_steps)`` with CFG/STG/modality guidance at half size.
    Stage 2: ×2 upsampling, then 3 distilled steps with the distilled LoRA fused (no guidance)."""

    res2s = False  # the HQ pipeline samples with res_2s
    lora_strengths = (None, 1.0)  # distilled-LoRA strength per stage (None: not fused)

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        distilled_lora: LoRA,
        loras: Sequence[LoRA] = (),
        distilled_lora_strengths: tuple[float | None, float] | None = None,
        dtype: mx.Dtype | None = None,
    ):
        super().__init__(model_path, text_encoder_path, loras=loras, dtype=dtype)
        strengths = distilled_lora_strengths or self.lora_strengths
        base = tuple(loras)
        first = base if strengths[0] is None else (*base, replace(distilled_lora, strength=strengths[0]))
        self.stage_1 = self.ledger.with_loras(first)
        self.stage_2 = self.ledger.with_loras((*base, replace(distilled_lora, strength=strengths[1])))

    def __call__(
        self,
        prompt: str,
        negative_prompt: str = DEFAULT_NEGATIVE_PROMPT,
        seed: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_frames: int | None = None,
        frame_rate: float | None = None,
        images: Sequence[ImageConditioningInput] = (),
        audio: AudioConditioningInput | None = None,
        generate_audio: bool = True,
        num_inference_steps: int | None = None,
        video_guider_params: MultiModalGuiderParams | None = None,
        audio_guider_params: MultiModalGuiderParams | None = None,
        enhance_prompt: bool = False,
        tiling: str = "auto",
        progress: Progress = no_progress,
    ) -> GenerationResult:
        p = self.params
        r = self.request(seed, height, width, num_frames, frame_rate, images, audio, generate_audio)
        res2s_seed = r.seed if self.res2s else None
        # 1. Positive and negative prompts; input audio → frozen latent (A2V); images at both stage sizes.
        contexts = encode_prompts(self.ledger, [prompt, negative_prompt], enhance_prompt, r.seed, progress)
        audio_spec, input_audio = self.audio_spec(audio, r.num_frames, r.frame_rate, generate_audio)
        with_audio = audio_spec is not None
        cond_1, cond_2 = self.encode_images(images, r.small, r.full)
        # 2. Guided stage 1 at half size.
        model, noiser = self.stage_1.transformer(), noiser_for(r.seed)
        denoiser = self.guided_denoiser(
            contexts,
            video_guider_params or p.video_guider_params,
            audio_guider_params or p.audio_guider_params,
            with_audio,
            audio is not None,
        )
        sigmas = self._stage_1_sigmas(num_inference_steps or p.num_inference_steps, r.small, model)
        stage_1 = ModalitySpec(conditionings=cond_1)
        video, audio_latent = denoise(
            model, r.small, stage_1, audio_spec, noiser, sigmas, denoiser, progress, "stage 1", res2s_seed
        )
        del model
        free()
        # 3. ×2 upsampling; 4. distilled-LoRA refinement.
        video = upsample(self.ledger, video, progress)
        model = self.stage_2.transformer()
        video, audio_latent = self.refine(
            model,
            r,
            video,
            audio_latent,
            cond_2,
            audio is not None,
            noiser,
            self.simple_denoiser(contexts[0], with_audio),
            progress,
            res2s_seed,
        )
        del model
        free()
        return self.finish(video, audio_latent, input_audio, r, tiling)

    def _stage_1_sigmas(self, steps: int, small, model) -> mx.array:
        if not self.res2s:
            return LTX2Scheduler().execute(steps)
        # HQ: the shift follows the stage-1 latent's token count.
        video_tools, _ = tools_for(small, model.args)
        return LTX2Scheduler().execute(steps, num_tokens=video_tools.target_shape.token_count())


class KeyframeInterpolationPipeline(TI2VidTwoStagesPipeline):
    """Every image (frame 0 too) is appended as a keyframe at its frame index (ports keyframe_interpolation.py)."""

    keyframes_only = True


class TI2VidTwoStagesHQPipeline(TI2VidTwoStagesPipeline):
    """res_2s in both stages, 15 steps, STG off, the distilled LoRA at 0.25 (stage 1) and 0.5 (stage 2)."""

    res2s = True
    hq = True
    lora_strengths = HQ_DISTILLED_LORA_STRENGTHS
