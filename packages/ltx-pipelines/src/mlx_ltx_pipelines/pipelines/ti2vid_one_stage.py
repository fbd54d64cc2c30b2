"""Dev checkpoint, one stage: guided Euler over LTX2Scheduler at the output size (ports ti2vid_one_stage.py)."""

from __future__ import annotations

from collections.abc import Sequence

from mlx_ltx_pipelines.guiders import MultiModalGuiderParams
from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT
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
        r = self.request(seed, height, width, num_frames, frame_rate, images, audio, generate_audio)
        # 1. Prompts; 2. A2V audio; 3. images.
        contexts = encode_prompts(self.ledger, [prompt, negative_prompt], enhance_prompt, r.seed, progress)
        audio_spec, input_audio = self.audio_spec(audio, r.num_frames, r.frame_rate, generate_audio)
        (conditionings,) = self.encode_images(images, r.full)
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
        spec = ModalitySpec(conditionings=conditionings)
        video, audio_latent = denoise(
            model, r.full, spec, audio_spec, noiser_for(r.seed), sigmas, denoiser, progress, "stage 1"
        )
        del model
        free()
        return self.finish(video, audio_latent, input_audio, r, tiling)
