"""Dev checkpoint, one stage: guided Euler over LTX2Scheduler at the output size (ports ti2vid_one_stage.py)."""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx

from mlx_ltx_pipelines.guiders import MultiModalGuiderParams
from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT
from mlx_ltx_pipelines.pipelines.base import Pipeline, noiser_for, stage_shapes
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import LTX2Scheduler
from mlx_ltx_pipelines.stages import (
    AudioConditioningInput,
    ImageConditioningInput,
    Progress,
    denoise,
    encode_prompts,
    free,
    image_conditionings,
    no_progress,
)
from mlx_ltx_pipelines.states import ModalitySpec


class TI2VidOneStagePipeline(Pipeline):
    """Text/image(/audio)-to-video in one guided stage (default 512×768, half the two-stage size)."""

    two_stage = False

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
        seed = p.seed if seed is None else seed
        # The reference's one-stage default is the two-stage pipelines' stage-1 size (512×768).
        height, width = height or p.height // 2, width or p.width // 2
        num_frames, frame_rate = num_frames or p.num_frames, frame_rate or p.frame_rate
        self.check_inputs(height, width, num_frames, frame_rate, images, audio, generate_audio)
        shape, _ = stage_shapes(height, width, num_frames, frame_rate, two_stage=False)
        # 1. Prompts; 2. A2V audio; 3. images.
        contexts = encode_prompts(self.ledger, [prompt, negative_prompt], enhance_prompt, seed, progress)
        audio_spec, input_audio = self.audio_spec(audio, num_frames, frame_rate, generate_audio)
        encoder = self.ledger.video_encoder()
        conditionings = image_conditionings(images, height, width, encoder, self.keyframes_only)
        del encoder
        free()
        # 4. Guided denoising.
        model = self.ledger.transformer()
        denoiser = self.guided_denoiser(
            contexts,
            video_guider_params or p.video_guider_params,
            audio_guider_params or p.audio_guider_params,
            audio_spec is not None,
            audio is not None,
        )
        sigmas = LTX2Scheduler().execute(num_inference_steps or p.num_inference_steps)
        video, audio_latent = denoise(
            model,
            shape,
            ModalitySpec(conditionings=conditionings),
            audio_spec,
            noiser_for(seed),
            sigmas,
            denoiser,
            progress,
            "stage 1",
        )
        del model
        free()
        mx.eval(video, *([audio_latent] if audio_latent is not None else []))
        return self.result(video, audio_latent, input_audio, frame_rate, seed, tiling)
