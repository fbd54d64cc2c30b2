"""Sound without generating video: text-to-audio (ports ltx_pipelines/t2a_one_stage.py, v1.2.0) and video-to-audio,
Foley for an existing video (the trainer's ``video_to_audio`` condition: the video frozen at its latents, the audio
generated; v2a LoRAs are trained and validated that way)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import mlx.core as mx

from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media.video import audio_samples_for, fit_length
from mlx_ltx_pipelines.media_result import AudioResult, MediaResult
from mlx_ltx_pipelines.pipelines.editing import EditingPipeline, GuidanceFields, fields_of
from mlx_ltx_pipelines.request import GenerationRequest
from mlx_ltx_pipelines.source_video import SourceVideo, encode_frames, read_source_video
from mlx_ltx_pipelines.stages import Progress, decode_audio, no_progress
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VideoPixelShape
from mlx_ltx_pipelines.validation import check_frame_rate, check_num_frames

# T2A's video shape is only its duration (frames / fps): the reference's placeholder size (t2a_one_stage.py:39).
_AUDIO_ONLY_PLACEHOLDER_RES = 512
# Request fields that make video or condition it: text-to-audio has no video stream to take them.
VIDEO_FIELDS = ("images", "audio", "video_conditioning", "height", "width", "skip_stage_2")


def v2a_specs(video: mx.array) -> tuple[ModalitySpec, ModalitySpec]:
    """Video frozen at its latents (denoise mask 0, sigma 0, kept clean), audio generated from noise."""
    return ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=video), ModalitySpec()


class T2AOneStagePipeline(EditingPipeline):
    """Text-to-audio: one stage on the audio stream alone (``video=None``); guided (dev: audio CFG / STG, the video
    →audio term off) or distilled. ``pipe(GenerationRequest(prompt, num_frames=, frame_rate=))`` → ``AudioResult``
    lasting num_frames / frame_rate seconds."""

    name = "t2a"

    def check(self, request: GenerationRequest) -> None:
        if not request.prompt.strip():
            raise ParameterError("prompt", 'no prompt: pass prompt="what it sounds like"')
        for name in request.given(*VIDEO_FIELDS):
            raise ParameterError(name, f"{name}= conditions video, and text-to-audio makes none; leave it out")
        if not request.generate_audio:
            raise ParameterError("generate_audio", "generate_audio=False leaves text-to-audio nothing to make")
        self.check_common(fields_of(request), request.seed, request.tiling)
        check_num_frames(request.num_frames or self.params.num_frames)
        check_frame_rate(request.frame_rate or self.params.frame_rate)

    def __call__(self, request: GenerationRequest, *, progress: Progress = no_progress) -> AudioResult:
        self.check(request)
        r, seed, guidance = request, self.seed(request.seed), fields_of(request)
        frames, fps = r.num_frames or self.params.num_frames, r.frame_rate or self.params.frame_rate
        shape = VideoPixelShape(1, frames, _AUDIO_ONLY_PLACEHOLDER_RES, _AUDIO_ONLY_PLACEHOLDER_RES, fps)
        denoiser = self.denoiser(
            self.contexts(r.prompt, guidance, r.enhance_prompt, seed, progress), guidance, False, True
        )
        _, audio = self.one_stage(shape, None, ModalitySpec(), seed, guidance, denoiser, progress, "audio")
        assert audio is not None  # the audio stream was denoised
        waveform, rate = decode_audio(self.ledger, audio, progress)
        return AudioResult(fit_length(waveform, audio_samples_for(frames, fps, rate)), rate, seed)


@dataclass(frozen=True)
class FoleyRequest(GuidanceFields):
    """Generate the sound of ``video`` (its frames are kept) from ``prompt``."""

    video: str | os.PathLike
    prompt: str
    seed: int | None = None
    enhance_prompt: bool = False
    tiling: str = "auto"


class VideoToAudioPipeline(EditingPipeline):
    """Foley: ``pipe(FoleyRequest(video, prompt))`` → a ``MediaResult`` of the video's own frames with a new sound."""

    name = "foley"

    def check(self, request: FoleyRequest) -> SourceVideo:
        if not request.prompt.strip():
            raise ParameterError("prompt", 'no prompt: pass prompt="what the video sounds like"')
        self.check_common(fields_of(request), request.seed, request.tiling)
        return read_source_video(request.video)

    def __call__(self, request: FoleyRequest, *, progress: Progress = no_progress) -> MediaResult:
        return self.run(request, self.check(request), progress)

    def run(self, request: FoleyRequest, source: SourceVideo, progress: Progress = no_progress) -> MediaResult:
        r, seed, guidance = request, self.seed(request.seed), fields_of(request)
        if source.has_audio:
            warnings.warn(f"{source.path} has a sound track: the output replaces it", stacklevel=2)
        # 1. Frames → frozen video latent; 2. prompt → denoiser; 3. the audio stream denoised beside the video.
        progress("encode", 0, 1)
        video_spec, audio_spec = v2a_specs(encode_frames(self.ledger, source.frames))
        progress("encode", 1, 1)
        denoiser = self.denoiser(
            self.contexts(r.prompt, guidance, r.enhance_prompt, seed, progress), guidance, True, True
        )
        _, audio = self.one_stage(source.shape, video_spec, audio_spec, seed, guidance, denoiser, progress, "foley")
        assert audio is not None
        waveform, rate = decode_audio(self.ledger, audio, progress)
        waveform = fit_length(waveform, audio_samples_for(len(source.frames), source.fps, rate))
        return MediaResult(source.frames, source.fps, seed, (waveform, rate))


__all__ = ["FoleyRequest", "T2AOneStagePipeline", "VideoToAudioPipeline", "v2a_specs"]
