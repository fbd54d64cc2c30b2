"""Retake: regenerate a time span of an existing video (and/or its sound), keep the rest (ports
ltx_pipelines/retake.py, v1.2.0).

The source's latents are the initial state; ``TemporalRegionMask`` gives the tokens of the span denoise mask 1 and the
others 0, so they stay their clean latents through the loop (bit for bit). One stage at the source's size.

The decoder mixes neighbouring latent frames, so decoding the result alone would change the kept frames too; the
written frames outside the span are therefore those of the source's latents decoded (``RetakeResult``), the frames of
the regenerated latent frames those of the result.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.conditioning import TemporalRegionMask
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.pipelines.editing import EditingPipeline, GuidanceFields, fields_of
from mlx_ltx_pipelines.preflight import MemoryEstimate
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.source_video import SourceVideo, encode_frames, encode_source_audio, read_source_video
from mlx_ltx_pipelines.stages import Progress, decode_video, no_progress
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS


@dataclass(frozen=True)
class RetakeRequest(GuidanceFields):
    """Regenerate [start_time, end_time) seconds of ``video`` from ``prompt``; ``regenerate_video`` /
    ``regenerate_audio`` False keeps that stream whole (frozen)."""

    video: str | os.PathLike
    prompt: str
    start_time: float
    end_time: float
    seed: int | None = None
    regenerate_video: bool = True
    regenerate_audio: bool = True
    enhance_prompt: bool = False
    tiling: str = "auto"


def retake_specs(
    video: mx.array, audio: mx.array | None, span: TemporalRegionMask, regenerate_video: bool, regenerate_audio: bool
) -> tuple[ModalitySpec, ModalitySpec]:
    """The stage's two streams: the source latents with the span masked, or frozen. A frozen stream keeps its clean
    latent (noise_scale 0, as A2V's audio); the reference leaves noise_scale 1 there, so its transformer sees noise
    labelled clean (sigma 0). Without source audio the audio is generated whole, as the reference does."""

    def spec(latent: mx.array | None, regenerate: bool) -> ModalitySpec:
        if latent is None:
            return ModalitySpec()
        if not regenerate:
            return ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=latent)
        return ModalitySpec(conditionings=[span], initial_latent=latent)

    return spec(video, regenerate_video), spec(audio, regenerate_audio)


def check_retake(request: RetakeRequest) -> SourceVideo:
    """The request's own rules and the source's (no model needed): the decoded source."""
    if not request.prompt.strip():
        raise ParameterError("prompt", 'no prompt: pass prompt="what the span shows"')
    if not (request.regenerate_video or request.regenerate_audio):
        raise ParameterError("regenerate_video", "regenerate_video and regenerate_audio are both False: nothing to do")
    start, end = request.start_time, request.end_time
    if not start < end:
        raise ParameterError("start_time", f"start_time={start:g} must be less than end_time={end:g}")
    source = read_source_video(request.video)
    length = source.duration
    if start < 0 or end > length + 1e-9:
        raise ParameterError(
            "end_time" if start >= 0 else "start_time",
            f"the span [{start:g}, {end:g}) s is outside the video ({length:g} s, {len(source.frames)} frames at "
            f"{source.fps:g} fps): give 0 <= start < end <= {length:g}",
        )
    if not request.regenerate_video and not source.has_audio:
        raise ParameterError(
            "regenerate_video", f"{source.path} has no sound track to retake: regenerate its video (or add audio)"
        )
    return source


def retaken_frames(span: TemporalRegionMask, latent_frames: int) -> tuple[int, int]:
    """[first, end) pixel frames of the latent frames the span masks (latent frame i covers pixel frames
    [max(8i − 7, 0), 8i + 1), the causal fix, as the mask reads them)."""
    t = VIDEO_SCALE_FACTORS.time
    inside = [
        i
        for i in range(latent_frames)
        if (t * i + 1) / span.fps > span.start_time and max(t * i + 1 - t, 0) / span.fps < span.end_time
    ]
    return max(t * inside[0] + 1 - t, 0), t * inside[-1] + 1


@dataclass
class RetakeResult(GenerationResult):
    """A retake: ``source_latent`` (the input's latents) is decoded for the frames outside ``retaken`` [first, end)
    pixel frames, so they are exactly the input's decode; None when the video was kept whole."""

    source_latent: mx.array | None = None
    retaken: tuple[int, int] = (0, 0)

    def video_chunks(self, progress: Progress = no_progress) -> Iterator[np.ndarray]:
        chunks = super().video_chunks(progress)
        if self.source_latent is None:
            return chunks
        kept = decode_video(self.ledger, self.source_latent, self.tiling, self.seed, no_progress)
        return _splice(chunks, kept, self.retaken)


def _splice(new: Iterator[np.ndarray], kept: Iterator[np.ndarray], retaken: tuple[int, int]) -> Iterator[np.ndarray]:
    """The two decodes' chunks (the same tiling, so the same sizes): ``new`` inside ``retaken``, ``kept`` outside."""
    offset = 0
    for chunk, source in zip(new, kept, strict=True):
        index = np.arange(offset, offset + len(chunk))
        inside = (index >= retaken[0]) & (index < retaken[1])
        yield np.where(inside[:, None, None, None], chunk, source)
        offset += len(chunk)


class RetakePipeline(EditingPipeline):
    """``pipe(RetakeRequest(...))`` → a ``GenerationResult`` at the source's size, frame rate and length."""

    name = "retake"

    def check(self, request: RetakeRequest) -> SourceVideo:
        """One-line errors naming the parameter, before any model loads; returns the decoded source."""
        self.check_common(fields_of(request), request.seed, request.tiling)
        return check_retake(request)

    def estimate(self, request: RetakeRequest, source: SourceVideo) -> list[MemoryEstimate]:
        return self.stage_estimates(source.shape, True, request.tiling)

    def __call__(self, request: RetakeRequest, *, progress: Progress = no_progress) -> RetakeResult:
        source = self.check(request)
        return self.run(request, source, progress)

    def run(self, request: RetakeRequest, source: SourceVideo, progress: Progress = no_progress) -> RetakeResult:
        r, seed = request, self.seed(request.seed)
        if r.regenerate_audio and not source.has_audio:
            warnings.warn(f"{source.path} has no sound track: the audio is generated for the whole video", stacklevel=2)
        # 1. The source → video latent and (if it has sound) audio latent and its 48 kHz waveform.
        progress("encode", 0, 1)
        video_latent = encode_frames(self.ledger, source.frames)
        audio = encode_source_audio(self.ledger, source) if source.has_audio else None
        progress("encode", 1, 1)
        # 2. Prompt → denoiser; 3. one stage over the masked span.
        guidance = fields_of(r)
        denoiser = self.denoiser(
            self.contexts(r.prompt, guidance, r.enhance_prompt, seed, progress), guidance, True, True
        )
        span = TemporalRegionMask(r.start_time, r.end_time, source.fps)
        video_spec, audio_spec = retake_specs(
            video_latent, audio[0] if audio else None, span, r.regenerate_video, r.regenerate_audio
        )
        video, audio_latent = self.one_stage(
            source.shape, video_spec, audio_spec, seed, guidance, denoiser, progress, "retake"
        )
        # A kept sound track is written as it was (not re-synthesised from its latent).
        kept = (audio[1], audio[2]) if audio is not None and not r.regenerate_audio else None
        source_latent = video_latent if r.regenerate_video else None
        return RetakeResult(
            self.ledger,
            video,
            audio_latent,
            source.fps,
            seed,
            r.tiling,
            kept,
            source_latent,
            retaken_frames(span, video.shape[1]),
        )


__all__ = ["RetakePipeline", "RetakeRequest", "RetakeResult", "check_retake", "retake_specs", "retaken_frames"]
