"""Dev checkpoint, one stage: guided Euler over LTX2Scheduler at the output size (ports ti2vid_one_stage.py)."""

from __future__ import annotations

from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT
from mlx_ltx_pipelines.pipelines.base import Pipeline, Plan, noiser_for
from mlx_ltx_pipelines.request import IC_LORA_FIELDS, UPSCALE_FIELDS, GenerationRequest
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.schedulers import LTX2Scheduler
from mlx_ltx_pipelines.stages import Progress, denoise, encode_prompts, free, no_progress
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.validation import check_resolution


class TI2VidOneStagePipeline(Pipeline):
    """Text/image(/audio)-to-video in one guided stage (default 512×768, half the two-stage size)."""

    name = "dev"
    guided = True
    positional = ("prompt", "negative_prompt")
    ignored = IC_LORA_FIELDS + UPSCALE_FIELDS

    def plan(self, request: GenerationRequest) -> Plan:
        """One stage: it runs at the output size, by default the two-stage pipelines' stage-1 size (512×768)."""
        out = self._output_shape(request, scale=2)
        return Plan(self._seed(request), out, out)

    @classmethod
    def check_size(cls, height: int, width: int, spatial_upscale: float = 2.0) -> None:
        check_resolution(height, width)

    def run(self, request: GenerationRequest, progress: Progress = no_progress) -> GenerationResult:
        r, p, plan = request, self.params, self.plan(request)
        # 1. Prompts; 2. A2V audio; 3. images.
        prompts = [r.prompt, r.negative_prompt or DEFAULT_NEGATIVE_PROMPT]
        contexts = encode_prompts(self.ledger, prompts, r.enhance_prompt, plan.seed, progress)
        audio_spec, input_audio = self.audio_spec(r.audio, plan.num_frames, plan.frame_rate, r.generate_audio)
        (conditionings,) = self.encode_images(r.images, self.image_mode(r), plan.full)
        # 4. Guided denoising.
        model = self.ledger.transformer()
        denoiser = self.guided_denoiser(
            contexts,
            r.video_guider_params or p.video_guider_params,
            r.audio_guider_params or p.audio_guider_params,
            audio_spec is not None,
            r.audio is not None,
        )
        sigmas = LTX2Scheduler().execute(r.num_inference_steps or p.num_inference_steps)
        spec = ModalitySpec(conditionings=conditionings)
        video, audio_latent = denoise(
            model, plan.full, spec, audio_spec, noiser_for(plan.seed), sigmas, denoiser, progress, "stage 1"
        )
        del model
        free()
        return self.finish(video, audio_latent, input_audio, plan, r.tiling)
