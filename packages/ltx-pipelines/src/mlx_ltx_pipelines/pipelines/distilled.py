"""Distilled two-stage text/image(/audio)-to-video: 8 + 3 Euler steps, no guidance (ports distilled.py)."""

from __future__ import annotations

from collections.abc import Sequence

from mlx_ltx_pipelines.pipelines.base import Pipeline, noiser_for
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import distilled_sigmas
from mlx_ltx_pipelines.stages import (
    AudioConditioningInput,
    ImageConditioningInput,
    Progress,
    denoise,
    encode_prompts,
    free,
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
        r = self.request(seed, height, width, num_frames, frame_rate, images, audio, generate_audio)
        # 1. Prompt → contexts (Gemma freed); input audio → frozen latent (A2V); images at both stage sizes.
        (context,) = encode_prompts(self.ledger, [prompt], enhance_prompt, r.seed, progress)
        audio_spec, input_audio = self.audio_spec(audio, r.num_frames, r.frame_rate, generate_audio)
        cond_1, cond_2 = self.encode_images(images, r.small, r.full)
        # 2. Stage 1 at half size (8 distilled steps); the same transformer serves stage 2.
        model, noiser = self.ledger.transformer(), noiser_for(r.seed)
        denoiser = self.simple_denoiser(context, audio_spec is not None)
        stage_1 = ModalitySpec(conditionings=cond_1)
        video, audio_latent = denoise(
            model, r.small, stage_1, audio_spec, noiser, distilled_sigmas(), denoiser, progress, "stage 1"
        )
        # 3. ×2 latent upsampling, 4. stage 2 (3 steps from sigma 0.909375).
        video = upsample(self.ledger, video, progress)
        video, audio_latent = self.refine(
            model, r, video, audio_latent, cond_2, audio is not None, noiser, denoiser, progress
        )
        del model
        free()
        return self.finish(video, audio_latent, input_audio, r, tiling)
