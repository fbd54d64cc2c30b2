"""IC-LoRA video-to-video: a reference video's latents appended as conditioning (ports ltx_pipelines/ic_lora.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.conditioning import ConditioningItemAttentionStrengthWrapper, VideoConditionByReferenceLatent
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.lora import LoRA, reference_downscale_factor
from mlx_ltx_pipelines.media import read_video, resize_and_center_crop
from mlx_ltx_pipelines.media.image import normalize_pixels
from mlx_ltx_pipelines.pipelines.base import Pipeline, RefineInputs, noiser_for
from mlx_ltx_pipelines.request import GUIDANCE_FIELDS, UPSCALE_FIELDS, GenerationRequest
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import distilled_sigmas
from mlx_ltx_pipelines.stages import (
    Progress,
    denoise,
    encode_prompts,
    free,
    no_progress,
    upsample,
)
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS


class ICLoraPipeline(Pipeline):
    """Distilled checkpoint with IC-LoRA(s) in stage 1; stage 2 refines without them (images only)."""

    name = "ic-lora"
    positional = ("prompt", "video_conditioning")
    ignored = GUIDANCE_FIELDS

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        loras: Sequence[LoRA],
        dtype: mx.Dtype | None = None,
        compute_dtype: mx.Dtype | None = None,
        lora_mode: str = "auto",
        low_memory: bool = False,
    ):
        if not loras:
            raise ParameterError("loras", "the IC-LoRA pipeline needs an IC-LoRA: pass loras=[load_lora(PATH)]")
        super().__init__(
            model_path,
            text_encoder_path,
            loras=loras,
            dtype=dtype,
            compute_dtype=compute_dtype,
            lora_mode=lora_mode,
            low_memory=low_memory,
        )
        self.downscale = reference_downscale_factor(loras)
        self.stage_2 = self.ledger.with_loras(())

    def check(self, request: GenerationRequest) -> None:
        """The base checks, then the reference videos and the stage-1 size against the LoRA's downscale."""
        if request.skip_stage_2 and request.given(*UPSCALE_FIELDS):
            raise ParameterError(
                "skip_stage_2", f"{request.given(*UPSCALE_FIELDS)[0]}= upscales into stage 2: drop skip_stage_2"
            )
        super().check(request)
        plan = self.plan(request)
        if not request.video_conditioning:
            raise ParameterError(
                "video_conditioning",
                "IC-LoRA needs a reference video: pass video_conditioning=[VideoConditioningInput]",
            )
        strength = request.conditioning_attention_strength
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"conditioning_attention_strength={strength} must be in [0, 1]")
        s, height, width = self.downscale, plan.small.height, plan.small.width
        step = VIDEO_SCALE_FACTORS.height * s
        if height % step or width % step:
            raise ValueError(
                f"size {plan.full.width}x{plan.full.height}: the stage-1 size ({width}x{height}) must be divisible "
                f"by {VIDEO_SCALE_FACTORS.height} × reference_downscale_factor ({s})"
            )
        for video in request.video_conditioning:
            if not 0.0 <= video.strength <= 1.0:
                raise ValueError(f"video conditioning strength {video.strength} must be in [0, 1]")

    def run(self, request: GenerationRequest, progress: Progress = no_progress) -> GenerationResult:
        r, plan = request, self.plan(request)
        # 1. Prompt; 2. A2V audio; 3. images and reference videos encoded.
        (context,) = encode_prompts(self.ledger, [r.prompt], r.enhance_prompt, plan.seed, progress)
        audio_spec, input_audio = self.audio_spec(r.audio, plan.num_frames, plan.frame_rate, r.generate_audio)
        cond_1, cond_2 = self.encode_images(r.images, self.image_mode(r), plan.small, plan.full)
        encoder = self.ledger.video_encoder()
        attention = r.conditioning_attention_strength
        cond_1 += self._references(r.video_conditioning, plan.small, plan.num_frames, encoder, attention)
        del encoder
        free()
        # 4. Stage 1 with the IC-LoRA fused.
        model, noiser = self.ledger.transformer(), noiser_for(plan.seed)
        denoiser = self.simple_denoiser(context, audio_spec is not None)
        stage_1 = ModalitySpec(conditionings=cond_1)
        video, audio_latent = denoise(
            model, plan.small, stage_1, audio_spec, noiser, distilled_sigmas(), denoiser, progress, "stage 1"
        )
        del model
        free()
        if not r.skip_stage_2:
            # 5. ×2 (or ×1.5) upsampling, 6. refinement without the IC-LoRA (images only), 7. the temporal round.
            video = upsample(self.ledger, video, progress, plan.spatial_upscale)
            model = self.stage_2.transformer()
            stage_2 = RefineInputs(plan.full, video, audio_latent, cond_2, r.audio is not None, noiser, denoiser)
            video, audio_latent = self.refine(model, stage_2, progress)
            video = self.temporal(model, video, cond_2, plan, noiser, context[0], progress)
            del model
            free()
        return self.finish(video, audio_latent, input_audio, plan, r.tiling)

    def _references(self, videos, shape, num_frames: int, encoder, attention: float) -> list:
        items = []
        for video in videos:
            frames, _fps = read_video(video.path, max_frames=num_frames)
            pixels = np.stack(list(frames))
            usable = VIDEO_SCALE_FACTORS.usable_frames(len(pixels))  # the causal encoder takes 8k+1 frames
            pixels = resize_and_center_crop(
                pixels[:usable], shape.height // self.downscale, shape.width // self.downscale
            )
            latent = encoder(normalize_pixels(pixels)[None])
            item = VideoConditionByReferenceLatent(latent, self.downscale, strength=video.strength)
            items.append(ConditioningItemAttentionStrengthWrapper(item, attention) if attention < 1.0 else item)
        return items
