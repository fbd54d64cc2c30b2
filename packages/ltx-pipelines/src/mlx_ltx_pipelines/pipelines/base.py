"""What every pipeline shares: the ledger and defaults, input checks, the audio modality, the result."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import mlx.core as mx

from mlx_ltx_pipelines.conditioning import ConditioningItem
from mlx_ltx_pipelines.denoisers import GuidedDenoiser, SimpleDenoiser
from mlx_ltx_pipelines.guiders import MultiModalGuider, MultiModalGuiderParams
from mlx_ltx_pipelines.lora import LoRA
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.params import params_for
from mlx_ltx_pipelines.result import GenerationResult
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
)
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VideoPixelShape
from mlx_ltx_pipelines.validation import check_frame_rate, check_num_frames, check_resolution


@dataclass(frozen=True)
class Request:
    """The sizes of one call after defaults: stage 1 runs at ``small`` (half size when two-stage), output ``full``."""

    seed: int
    num_frames: int
    frame_rate: float
    small: VideoPixelShape
    full: VideoPixelShape


class Pipeline:
    """Base of the pipeline classes: ``ledger`` (one component at a time) and the model version's ``params``."""

    two_stage = True
    hq = False
    keyframes_only = False  # True: every image is appended as a keyframe (also frame 0)

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        loras: Sequence[LoRA] = (),
        dtype: mx.Dtype | None = None,
    ):
        self.ledger = ModelLedger(model_path, text_encoder_path, dtype, tuple(loras))
        self.params = params_for(self.ledger.model_version, hq=self.hq)

    def request(
        self,
        seed: int | None,
        height: int | None,
        width: int | None,
        num_frames: int | None,
        frame_rate: float | None,
        images: Sequence[ImageConditioningInput],
        audio: AudioConditioningInput | None,
        generate_audio: bool,
    ) -> Request:
        """Fill the model version's defaults and check every input before any model loads."""
        p = self.params
        # One-stage defaults to the two-stage pipelines' stage-1 size (the reference's 512×768).
        scale = 1 if self.two_stage else 2
        height, width = height or p.height // scale, width or p.width // scale
        num_frames, frame_rate = num_frames or p.num_frames, frame_rate or p.frame_rate
        self.check_inputs(height, width, num_frames, frame_rate, images, audio, generate_audio)
        small, full = stage_shapes(height, width, num_frames, frame_rate, self.two_stage)
        return Request(p.seed if seed is None else seed, num_frames, frame_rate, small, full)

    def encode_images(
        self, images: Sequence[ImageConditioningInput], *shapes: VideoPixelShape
    ) -> list[list[ConditioningItem]]:
        """The image conditionings at each stage size, with the VAE encoder loaded once and then dropped."""
        if not images:
            return [[] for _ in shapes]
        encoder = self.ledger.video_encoder()
        items = [image_conditionings(images, s.height, s.width, encoder, self.keyframes_only) for s in shapes]
        del encoder
        free()
        return items

    def refine(
        self,
        model,
        request: Request,
        video: mx.array,
        audio_latent: mx.array | None,
        conditionings: Sequence[ConditioningItem],
        audio_frozen: bool,
        noiser: GaussianNoiser,
        denoiser,
        progress: Progress,
        res2s_seed: int | None = None,
    ) -> tuple[mx.array, mx.array | None]:
        """Stage 2: the upsampled latent, noised to sigma 0.909375, denoised over the 3 distilled steps."""
        sigmas = stage_2_distilled_sigmas()
        noise = float(sigmas[0])
        video_spec = ModalitySpec(conditionings=conditionings, noise_scale=noise, initial_latent=video)
        audio_spec = self.stage_2_audio(audio_latent, audio_frozen, noise)
        return denoise(
            model, request.full, video_spec, audio_spec, noiser, sigmas, denoiser, progress, "stage 2", res2s_seed
        )

    def finish(
        self, video: mx.array, audio_latent: mx.array | None, input_audio: tuple | None, request: Request, tiling: str
    ) -> GenerationResult:
        mx.eval(video, *([audio_latent] if audio_latent is not None else []))
        return self.result(video, audio_latent, input_audio, request.frame_rate, request.seed, tiling)

    def check_inputs(
        self,
        height: int,
        width: int,
        num_frames: int,
        frame_rate: float,
        images: Sequence[ImageConditioningInput],
        audio: AudioConditioningInput | None,
        generate_audio: bool,
    ) -> None:
        """One-line ValueErrors naming the value and the rule, before any model is loaded."""
        check_resolution(height, width, two_stage=self.two_stage)
        check_num_frames(num_frames)
        check_frame_rate(frame_rate)
        for image in images:
            if not 0 <= image.frame_idx < num_frames:
                raise ValueError(f"image frame index {image.frame_idx} must be in [0, {num_frames - 1}] (num_frames)")
            if not 0.0 <= image.strength <= 1.0:
                raise ValueError(f"image strength {image.strength} must be in [0, 1]")
        if audio is not None and not generate_audio:
            raise ValueError("audio-to-video keeps the input audio: do not combine an audio input with no audio")

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

    def _check_stg_blocks(self, *params: MultiModalGuiderParams) -> None:
        layers = self.ledger.component("transformer").config.get("num_layers", 48)
        for p in params:
            bad = [b for b in p.stg_blocks if b >= layers] if p.stg_scale else []
            if bad:
                raise ValueError(f"stg_blocks={bad} do not exist: the transformer has blocks 0..{layers - 1}")


def stage_shapes(height: int, width: int, num_frames: int, frame_rate: float, two_stage: bool):
    """Pixel shapes of stage 1 (half size when two-stage) and of the output."""
    out = VideoPixelShape(1, num_frames, height, width, frame_rate)
    if not two_stage:
        return out, out
    return VideoPixelShape(1, num_frames, height // 2, width // 2, frame_rate), out


def noiser_for(seed: int) -> GaussianNoiser:
    return GaussianNoiser(seed)


__all__ = ["Pipeline", "Progress", "no_progress", "noiser_for", "stage_shapes"]
