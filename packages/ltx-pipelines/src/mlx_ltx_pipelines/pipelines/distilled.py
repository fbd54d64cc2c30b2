"""Distilled two-stage text/image(/audio)-to-video: 8 + 3 Euler steps, no guidance (ports distilled.py)."""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx

from mlx_ltx_pipelines.pipelines.base import Pipeline, noiser_for, stage_shapes
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import distilled_sigmas, stage_2_distilled_sigmas
from mlx_ltx_pipelines.stages import (
    AudioConditioningInput,
    ImageConditioningInput,
    Progress,
    denoise,
    encode_prompts,
    free,
    image_conditionings,
    no_progress,
    upsample,
)
from mlx_ltx_pipelines.states import ModalitySpec


class DistilledPipeline(Pipeline):
    """The distilled checkpoint: stage 1 at half size (8 steps), ×2 latent upsampling, stage 2 (3 steps)."""

    def __call__(
        self,
        prompt: str,
        seed: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_frames: int | None = None,
        frame_rate: float | None = None,
        images: Sequence[ImageConditioningInput] = (),
        audio: AudioConditioningInput | None = None,
        generate_audio: bool = True,
        enhance_prompt: bool = False,
        tiling: str = "auto",
        progress: Progress = no_progress,
    ) -> GenerationResult:
        p = self.params
        seed, height, width = p.seed if seed is None else seed, height or p.height, width or p.width
        num_frames, frame_rate = num_frames or p.num_frames, frame_rate or p.frame_rate
        self.check_inputs(height, width, num_frames, frame_rate, images, audio, generate_audio)
        small, full = stage_shapes(height, width, num_frames, frame_rate, two_stage=True)
        # 1. Prompt → contexts (Gemma freed); input audio → frozen latent (A2V).
        (context,) = encode_prompts(self.ledger, [prompt], enhance_prompt, seed, progress)
        audio_spec, input_audio = self.audio_spec(audio, num_frames, frame_rate, generate_audio)
        # 2. Images encoded at both stage sizes, then the encoder is dropped.
        encoder = self.ledger.video_encoder()
        cond_1 = image_conditionings(images, small.height, small.width, encoder)
        cond_2 = image_conditionings(images, full.height, full.width, encoder)
        del encoder
        free()
        # 3. Stage 1 at half size; the same transformer serves stage 2.
        model, noiser = self.ledger.transformer(), noiser_for(seed)
        with_audio = audio_spec is not None
        denoiser = self.simple_denoiser(context, with_audio)
        video, audio_latent = denoise(
            model,
            small,
            ModalitySpec(conditionings=cond_1),
            audio_spec,
            noiser,
            distilled_sigmas(),
            denoiser,
            progress,
            "stage 1",
        )
        # 4. ×2 latent upsampling, 5. stage 2 from sigma 0.909375.
        video = upsample(self.ledger, video, progress)
        sigmas = stage_2_distilled_sigmas()
        noise = float(sigmas[0])
        video, audio_latent = denoise(
            model,
            full,
            ModalitySpec(conditionings=cond_2, noise_scale=noise, initial_latent=video),
            self.stage_2_audio(audio_latent, audio is not None, noise),
            noiser,
            sigmas,
            denoiser,
            progress,
            "stage 2",
        )
        del model
        free()
        mx.eval(video, *([audio_latent] if audio_latent is not None else []))
        return self.result(video, audio_latent, input_audio, frame_rate, seed, tiling)
