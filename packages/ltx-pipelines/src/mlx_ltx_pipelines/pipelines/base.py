"""What every pipeline shares: the ledger and defaults, input checks, the audio modality, the result."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import mlx.core as mx

from mlx_ltx_pipelines.conditioning import ConditioningItem
from mlx_ltx_pipelines.denoisers import Denoiser, GuidedDenoiser, SimpleDenoiser
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.guiders import MultiModalGuider, MultiModalGuiderParams
from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.media import decode_image
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.params import PipelineParams, params_for
from mlx_ltx_pipelines.preflight import MemoryEstimate, decode_estimate, denoise_estimate
from mlx_ltx_pipelines.request import (
    GUIDANCE_FIELDS,
    IC_LORA_FIELDS,
    IMAGE_MODES,
    GenerationRequest,
    call_signature,
    request_from,
)
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.samplers import EulerSampler, Sampler
from mlx_ltx_pipelines.schedulers import stage_2_distilled_sigmas
from mlx_ltx_pipelines.stages import (
    AudioConditioningInput,
    ImageConditioningInput,
    Progress,
    denoise,
    encode_audio_input,
    free,
    image_conditionings,
    no_progress,
    upsample,
)
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.temporal import doubled_frames, temporal_round
from mlx_ltx_pipelines.types import VideoPixelShape
from mlx_ltx_pipelines.validation import (
    SPATIAL_UPSCALES,
    check_frame_rate,
    check_num_frames,
    check_resolution,
    check_temporal_upscale,
    check_video_size,
    size_multiple,
    spatial_ratio,
    stage_1_size,
)


@dataclass(frozen=True)
class Plan:
    """A request after the model version's defaults: stage 1 runs at ``small``, stage 2 at ``full``; ``output`` is
    what is decoded (``full``, or doubled in time by the temporal round)."""

    seed: int
    small: VideoPixelShape
    full: VideoPixelShape
    spatial_upscale: float = 2.0  # full / small: the x2 or x1.5 latent upscaler
    temporal_upscale: bool = False

    @property
    def num_frames(self) -> int:
        return self.full.frames

    @property
    def frame_rate(self) -> float:
        return self.full.fps

    @property
    def output(self) -> VideoPixelShape:
        """The decoded video: 2(F − 1) + 1 frames at twice the rate after the temporal round, else ``full``."""
        if not self.temporal_upscale:
            return self.full
        return self.full._replace(frames=doubled_frames(self.full.frames), fps=2 * self.full.fps)


@dataclass(frozen=True, eq=False)
class RefineInputs:
    """What a refinement stage denoises (stage 2): the upsampled latent and stage 1's audio, both renoised to
    the first stage-2 sigma unless the audio is frozen (A2V)."""

    shape: VideoPixelShape
    video: mx.array  # (B, F, H, W, C), already ×2
    audio: mx.array | None  # (B, T, 16, 8) of stage 1, or None without audio
    conditionings: Sequence[ConditioningItem]  # image conditionings at ``shape``
    audio_frozen: bool  # A2V: the input audio stays as it is
    noiser: GaussianNoiser
    denoiser: Denoiser
    sampler: Sampler = field(default_factory=EulerSampler)
    stage: str = "stage 2"  # the progress label


class Pipeline:
    """Base of the pipeline classes: ``ledger`` (one component at a time) and the model version's ``params``.

    ``pipe(request)`` (a ``GenerationRequest``) or ``pipe(prompt=..., seed=...)`` checks the request, then
    ``run`` carries out its numbered stages. The base is a two-stage pipeline (stage 1 at half size).
    ``low_memory=True`` keeps the transformer's blocks on disk, read a group at a time in each forward.
    """

    name: ClassVar[str]  # the CLI's --pipeline name (BY_NAME)
    guided: ClassVar[bool] = False  # takes negative prompt, steps and guider params
    needs_distilled_lora: ClassVar[bool] = False  # the constructor takes ``distilled_lora=``
    positional: ClassVar[tuple[str, ...]] = ("prompt",)  # the keyword form's positional arguments
    ignored: ClassVar[tuple[str, ...]] = GUIDANCE_FIELDS + IC_LORA_FIELDS  # request fields it must not be given

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        loras: Sequence[LoRA] = (),
        dtype: mx.Dtype | None = None,
        compute_dtype: mx.Dtype | None = None,
        lora_mode: str = "auto",
        low_memory: bool = False,
    ):
        self.ledger = ModelLedger(
            Path(model_path), text_encoder_path, dtype, tuple(loras), compute_dtype, lora_mode, low_memory
        )
        self.params = params_for(self.ledger.model_version, self.name)

    def __call__(
        self, request: GenerationRequest | str | None = None, /, *args: Any, progress: Progress = no_progress, **kw: Any
    ) -> GenerationResult:
        """Check ``request`` (or the one built from the arguments: ``GenerationRequest``'s fields), then run it."""
        if not isinstance(request, GenerationRequest):
            request = request_from(args if request is None else (request, *args), kw, self.positional)
        elif args or kw:
            raise TypeError("pass either a GenerationRequest or its fields as arguments, not both")
        self.check(request)
        return self.run(request, progress)

    def run(self, request: GenerationRequest, progress: Progress = no_progress) -> GenerationResult:
        """The pipeline's numbered stages for a checked ``request`` (call the pipeline, which checks first)."""
        raise NotImplementedError

    def with_params(self, params: PipelineParams) -> Self:
        """A copy of this pipeline whose defaults are ``params`` (e.g. sizes that fit a tiny model)."""
        other = copy.copy(self)
        other.params = params
        return other

    def plan(self, request: GenerationRequest) -> Plan:
        """Defaults filled in; stage 1 at half the output size (2/3 with the x1.5 upscaler, whose default output is
        1.5x the x2 default's stage 1, as a multiple of 96: 1152x768 for 1536x1024)."""
        scale = request.spatial_upscale
        full = self._output_shape(request, scale=1)
        if scale != 2.0 and request.height is None and scale in SPATIAL_UPSCALES:
            m = size_multiple(True, scale)
            height, width = (max(m, int(v // 2 * scale) // m * m) for v in (full.height, full.width))
            full = full._replace(height=height, width=width)
        small = full
        if scale in SPATIAL_UPSCALES:
            small = full._replace(height=stage_1_size(full.height, scale), width=stage_1_size(full.width, scale))
        return Plan(self._seed(request), small, full, scale, request.temporal_upscale)

    @classmethod
    def check_size(cls, height: int, width: int, spatial_upscale: float = 2.0) -> None:
        """The output size: multiples of 64 (stage 1 runs at half size, a multiple of the VAE's 32), or of 96
        with the x1.5 upscaler (stage 1 at 2/3 size, an even number of latent pixels)."""
        check_resolution(height, width, two_stage=True, spatial_upscale=spatial_upscale)

    def image_mode(self, request: GenerationRequest) -> str:
        """How images condition: ``replace`` (frame 0 replaces the first latent frame) or ``guide`` (keyframes)."""
        return request.image_mode

    def estimate(self, request: GenerationRequest) -> list[MemoryEstimate]:
        """Estimated peak memory of each denoising stage and of the decode, before anything loads."""
        return [
            *self.denoise_estimates(request),
            decode_estimate(self.ledger, self.plan(request).output, request.tiling),
        ]

    def denoise_estimates(self, request: GenerationRequest) -> list[MemoryEstimate]:
        """The denoising stages' estimates alone: arithmetic, where the decode's walks its tile plan (a preflight
        checks these first, so a size far over the limit is refused at once)."""
        plan = self.plan(request)
        with_audio = request.generate_audio or request.audio is not None
        estimates = [denoise_estimate(self.ledger, plan.small, self.passes(request), with_audio)]
        if plan.full != plan.small:
            estimates.append(denoise_estimate(self.ledger, plan.full, 1, with_audio))
        if plan.temporal_upscale:
            estimates.append(denoise_estimate(self.ledger, plan.output, 1, False))
        return estimates

    def passes(self, request: GenerationRequest) -> int:
        """Samples per stage-1 forward: one, plus one per active guidance term (CFG, STG, modality)."""
        if not self.guided:
            return 1
        p = request.video_guider_params or self.params.video_guider_params
        return 1 + (p.cfg_scale != 1.0) + (p.stg_scale != 0.0) + (p.modality_scale != 1.0)

    def check(self, request: GenerationRequest) -> None:
        """One-line ValueErrors naming the parameter and the rule, before any model is loaded."""
        self._check_unused(request)
        if self.takes("spatial_upscale"):
            spatial_ratio(request.spatial_upscale)
        plan = self.plan(request)
        self.check_size(plan.full.height, plan.full.width, request.spatial_upscale)
        check_num_frames(plan.num_frames)
        check_video_size(plan.output.height, plan.output.width, plan.output.frames)  # after the temporal round
        check_frame_rate(plan.frame_rate)
        check_images(request.images, plan.num_frames)
        if request.image_mode not in IMAGE_MODES:
            raise ValueError(f"image_mode={request.image_mode!r}: choose one of {', '.join(IMAGE_MODES)}")
        if request.audio is not None and not request.generate_audio:
            raise ValueError("audio-to-video keeps the input audio: do not combine audio= with generate_audio=False")
        check_tiling(request.tiling)
        if self.takes("spatial_upscale"):
            self._check_upscalers(request)
        if self.guided:
            self._check_stg_blocks(
                request.video_guider_params or self.params.video_guider_params,
                request.audio_guider_params or self.params.audio_guider_params,
            )

    def encode_images(
        self, images: Sequence[ImageConditioningInput], mode: str, *shapes: VideoPixelShape
    ) -> list[list[ConditioningItem]]:
        """The image conditionings at each stage size, with the VAE encoder loaded once and then dropped."""
        if not images:
            return [[] for _ in shapes]
        encoder = self.ledger.video_encoder()
        crf = self.params.image_crf
        items = [image_conditionings(images, s.height, s.width, encoder, mode == "guide", crf) for s in shapes]
        del encoder
        free()
        return items

    @staticmethod
    def refine(model, inputs: RefineInputs, progress: Progress) -> tuple[mx.array, mx.array | None]:
        """Stage 2: the upsampled latent, noised to sigma 0.909375, denoised over the 3 distilled steps."""
        sigmas = stage_2_distilled_sigmas()
        noise = float(sigmas[0])
        video_spec = ModalitySpec(conditionings=inputs.conditionings, noise_scale=noise, initial_latent=inputs.video)
        audio_spec = Pipeline.stage_2_audio(inputs.audio, inputs.audio_frozen, noise)
        return denoise(
            model,
            inputs.shape,
            video_spec,
            audio_spec,
            inputs.noiser,
            sigmas,
            inputs.denoiser,
            progress,
            inputs.stage,
            inputs.sampler,
        )

    def temporal(
        self, model, video: mx.array, conditionings: Sequence[ConditioningItem], plan: Plan, noiser, context, progress
    ) -> mx.array:
        """The temporal x2 round on stage 2's latent (``context``: the prompt's video context), when planned."""
        if not plan.temporal_upscale:
            return video
        video = upsample(self.ledger, video, progress, temporal=True)
        return temporal_round(model, video, plan.full, conditionings, context, noiser, plan.seed, progress)

    def finish(
        self, video: mx.array, audio_latent: mx.array | None, input_audio: tuple | None, plan: Plan, tiling: str
    ) -> GenerationResult:
        mx.eval(video, *([audio_latent] if audio_latent is not None else []))
        return self.result(video, audio_latent, input_audio, plan.output.fps, plan.seed, tiling)

    def _output_shape(self, request: GenerationRequest, scale: int) -> VideoPixelShape:
        """The output's pixel shape; ``scale`` divides the defaults' size (2: one-stage runs at stage-1 size)."""
        p = self.params
        height, width = request.height or p.height // scale, request.width or p.width // scale
        return VideoPixelShape(1, request.num_frames or p.num_frames, height, width, request.frame_rate or p.frame_rate)

    def _seed(self, request: GenerationRequest) -> int:
        return self.params.seed if request.seed is None else request.seed

    @classmethod
    def takes(cls, field_name: str) -> bool:
        """Whether this pipeline uses the request field ``field_name`` (e.g. ``spatial_upscale``: it has two stages)."""
        return field_name not in cls.ignored

    def _check_unused(self, request: GenerationRequest) -> None:
        """A field this pipeline ignores is an error, not a silent no-op."""
        unused = request.given(*self.ignored)
        if unused:
            raise ValueError(f"{unused[0]}= does not apply to the {self.name} pipeline; leave it out")

    def guided_denoiser(
        self,
        contexts: list[tuple[mx.array, mx.array]],
        video_params: MultiModalGuiderParams,
        audio_params: MultiModalGuiderParams,
        with_audio: bool,
        audio_frozen: bool,
    ) -> GuidedDenoiser:
        """CFG / STG / modality guidance from (positive, negative) contexts; a frozen audio gets no guidance."""
        (v_pos, a_pos), (v_neg, a_neg) = contexts
        self._check_stg_blocks(video_params, audio_params)
        audio_guider = None
        if with_audio and not audio_frozen:
            audio_guider = MultiModalGuider(audio_params, a_neg)
        return GuidedDenoiser(v_pos, a_pos if with_audio else None, MultiModalGuider(video_params, v_neg), audio_guider)

    @staticmethod
    def simple_denoiser(context: tuple[mx.array, mx.array], with_audio: bool) -> SimpleDenoiser:
        return SimpleDenoiser(context[0], context[1] if with_audio else None)

    def audio_spec(
        self, audio: AudioConditioningInput | None, num_frames: int, frame_rate: float, generate_audio: bool
    ) -> tuple[ModalitySpec | None, tuple | None]:
        """Audio modality of stage 1: generated, frozen from an input file (A2V), or absent; plus the input audio."""
        if audio is not None:
            latent, waveform, rate = encode_audio_input(self.ledger, audio, num_frames, frame_rate)
            return ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=latent), (latent, waveform, rate)
        return (ModalitySpec() if generate_audio else None), None

    @staticmethod
    def stage_2_audio(stage_1_audio: mx.array | None, frozen: bool, noise_scale: float) -> ModalitySpec | None:
        if stage_1_audio is None:
            return None
        if frozen:
            return ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=stage_1_audio)
        return ModalitySpec(noise_scale=noise_scale, initial_latent=stage_1_audio)

    def result(
        self,
        video_latent: mx.array,
        audio_latent: mx.array | None,
        input_audio: tuple | None,
        frame_rate: float,
        seed: int,
        tiling: str,
    ) -> GenerationResult:
        waveform = None if input_audio is None else (input_audio[1], input_audio[2])
        return GenerationResult(self.ledger, video_latent, audio_latent, frame_rate, seed, tiling, waveform)

    def _check_upscalers(self, request: GenerationRequest) -> None:
        """The x1.5 or temporal upscaler a request asks for is in the model folder (configs only: nothing loads)."""
        if request.skip_stage_2:
            return
        if request.temporal_upscale:
            check_temporal_upscale(self.plan(request).num_frames)
            self.ledger.upsampler_folder(temporal=True)
        if request.spatial_upscale != 2.0:
            self.ledger.upsampler_folder(request.spatial_upscale)

    def _check_stg_blocks(self, video: MultiModalGuiderParams, audio: MultiModalGuiderParams) -> None:
        """The STG blocks of each guider whose STG is on (scale != 0) exist; the error names the guider. A folder
        without a readable transformer is left to the load (and its own message)."""
        try:
            layers = self.ledger.component("transformer").config.get("num_layers", 48)
        except ValueError:
            return
        for name, p in (("video_guider_params", video), ("audio_guider_params", audio)):
            bad = [b for b in p.stg_blocks if not 0 <= b < layers] if p.stg_scale else []
            if bad:
                raise ParameterError(
                    name,
                    f"{name.split('_')[0]} guider: stg_blocks={bad} do not exist: the transformer has blocks "
                    f"0..{layers - 1} (or set its stg_scale to 0)",
                )


def check_images(images: Sequence[ImageConditioningInput], num_frames: int) -> None:
    for image in images:
        if not 0 <= image.frame_idx < num_frames:
            raise ValueError(f"image frame index {image.frame_idx} must be in [0, {num_frames - 1}] (num_frames)")
        if not 0.0 <= image.strength <= 1.0:
            raise ValueError(f"image strength {image.strength} must be in [0, 1]")
        if not isinstance(image.path, str | os.PathLike):
            decode_image(image.path)  # an in-memory image is refused (wrong shape, dtype, range) before models load


def check_tiling(tiling: str) -> None:
    from mlx_ltx_core.model.video_vae import TILING_PRESETS

    if tiling != "auto" and tiling not in TILING_PRESETS:
        raise ValueError(f"tiling={tiling!r}: choose one of auto, {', '.join(TILING_PRESETS)}")


def noiser_for(seed: int) -> GaussianNoiser:
    return GaussianNoiser(seed)


__all__ = ["Pipeline", "Plan", "Progress", "RefineInputs", "check_images", "check_tiling", "no_progress", "noiser_for"]

Pipeline.__call__.__signature__ = call_signature(no_progress)  # type: ignore[attr-defined]  # the keyword form
