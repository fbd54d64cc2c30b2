"""Distilled two-stage text/image(/audio)-to-video: 8 + 3 Euler steps, no guidance (ports distilled.py)."""

from __future__ import annotations

from mlx_ltx_pipelines.euler_ancestral import EulerAncestralSampler
from mlx_ltx_pipelines.pipelines.base import Pipeline, RefineInputs, noiser_for
from mlx_ltx_pipelines.request import GenerationRequest
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.samplers import EulerSampler, Sampler
from mlx_ltx_pipelines.schedulers import distilled_sigmas
from mlx_ltx_pipelines.stages import Progress, denoise, encode_prompts, free, no_progress, upsample
from mlx_ltx_pipelines.states import ModalitySpec

# The ancestral loop's noise is seeded with the pipeline seed plus this (the reference's ANCESTRAL_NOISE_SEED_OFFSET):
# otherwise its first draw would repeat the initial latent noise.
ANCESTRAL_NOISE_SEED_OFFSET = 10_000


class DistilledPipeline(Pipeline):
    """The distilled checkpoint: stage 1 at half size (8 steps), ×2 latent upsampling, stage 2 (3 steps).

    Stage 1 samples with the model version's sampler: Euler, or from LTX-2.5 on the fully ancestral Euler."""

    name = "distilled"

    def sampler(self, seed: int) -> Sampler:
        if self.params.sampler == "euler_ancestral":
            return EulerAncestralSampler(noise_seed=seed + ANCESTRAL_NOISE_SEED_OFFSET)
        return EulerSampler()

    def run(self, request: GenerationRequest, progress: Progress = no_progress) -> GenerationResult:
        r, plan = request, self.plan(request)
        # 1. Prompt → contexts (Gemma freed); input audio → frozen latent (A2V); images at both stage sizes.
        (context,) = encode_prompts(self.ledger, [r.prompt], r.enhance_prompt, plan.seed, progress)
        audio_spec, input_audio = self.audio_spec(r.audio, plan.num_frames, plan.frame_rate, r.generate_audio)
        cond_1, cond_2 = self.encode_images(r.images, self.image_mode(r), plan.small, plan.full)
        # 2. Stage 1 at half size (8 distilled steps); the same transformer serves stage 2.
        model, noiser = self.ledger.transformer(), noiser_for(plan.seed)
        denoiser = self.simple_denoiser(context, audio_spec is not None)
        stage_1 = ModalitySpec(conditionings=cond_1)
        video, audio_latent = denoise(
            model,
            plan.small,
            stage_1,
            audio_spec,
            noiser,
            distilled_sigmas(),
            denoiser,
            progress,
            "stage 1",
            self.sampler(plan.seed),
        )
        # 3. ×2 (or ×1.5) latent upsampling, 4. stage 2 (3 steps from sigma 0.909375), 5. the temporal round.
        video = upsample(self.ledger, video, progress, plan.spatial_upscale)
        stage_2 = RefineInputs(plan.full, video, audio_latent, cond_2, r.audio is not None, noiser, denoiser)
        video, audio_latent = self.refine(model, stage_2, progress)
        video = self.temporal(model, video, cond_2, plan, noiser, context[0], progress)
        del model
        free()
        return self.finish(video, audio_latent, input_audio, plan, r.tiling)
