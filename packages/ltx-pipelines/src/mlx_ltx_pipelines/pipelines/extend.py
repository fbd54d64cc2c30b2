"""Extend a video forward (or backward) by N seconds, chunk by chunk with carried frames.

The reference has no extension pipeline; its algorithm is the trainer's ``prefix`` / ``suffix`` conditions (what its
video/audio-extend LoRAs are trained and validated with, ltx_trainer/validation_runner.py): a canvas of ``chunk_frames``
whose first (forward) or last (backward) latent frames are the carried frames' latents, kept clean, the rest generated.
Each chunk adds ``chunk_frames − carry_frames`` frames and carries its own end into the next, so one chunk's canvas is
all that is ever denoised: the memory is that of one ``chunk_frames`` generation, whatever N is.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.conditioning import AudioConditionByLatentIndex, VideoConditionByLatentIndex
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media_result import MediaResult
from mlx_ltx_pipelines.pipelines.editing import EditingPipeline, Guidance, GuidanceFields, fields_of
from mlx_ltx_pipelines.preflight import MemoryEstimate
from mlx_ltx_pipelines.source_video import (
    SourceVideo,
    encode_frames,
    encode_waveform_span,
    read_source_video,
    source_audio,
)
from mlx_ltx_pipelines.stages import Progress, decode_audio, decode_video, no_progress
from mlx_ltx_pipelines.states import ModalitySpec
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS, AudioLatentShape, VideoLatentShape, VideoPixelShape

DEFAULT_CHUNK_FRAMES = 121  # both versions' default generation length
DEFAULT_CARRY_FRAMES = 25  # 4 latent frames (+ the causal first) of context carried into each chunk


@dataclass(frozen=True)
class ExtendRequest(GuidanceFields):
    """Add ``seconds`` to the end of ``video`` (``backward``: before its start) from ``prompt``, in chunks of
    ``chunk_frames`` (8k+1; default 121) each carrying ``carry_frames`` (8j+1) of the current video."""

    video: str | os.PathLike
    prompt: str
    seconds: float
    backward: bool = False
    seed: int | None = None
    chunk_frames: int | None = None
    carry_frames: int | None = None
    generate_audio: bool = True  # extend the sound track too (when the video has one)
    enhance_prompt: bool = False
    tiling: str = "auto"


@dataclass(frozen=True)
class ChunkPlan:
    chunk: int  # canvas pixel frames (8k+1)
    carry: int  # carried pixel frames (8j+1)
    new_frames: int  # frames to add in all
    count: int  # chunks

    @property
    def per_chunk(self) -> int:
        return self.chunk - self.carry


def extend_specs(
    carried_video: mx.array, carried_audio: mx.array | None, backward: bool, canvas: VideoPixelShape
) -> tuple[ModalitySpec, ModalitySpec | None]:
    """The canvas's streams: carried latents (B, F, H, W, C) / (B, T, 16, 8) clean at its start (forward) or end."""
    video_frames = VideoLatentShape.from_pixel_shape(canvas).frames
    audio_frames = AudioLatentShape.from_video_pixel_shape(canvas).frames
    v_idx = video_frames - carried_video.shape[1] if backward else 0
    video = ModalitySpec(conditionings=[VideoConditionByLatentIndex(carried_video, 1.0, v_idx)])
    if carried_audio is None:
        return video, None
    a_idx = audio_frames - carried_audio.shape[1] if backward else 0
    return video, ModalitySpec(conditionings=[AudioConditionByLatentIndex(carried_audio, a_idx)])


def chunk_plan(request: ExtendRequest, source_frames: int, fps: float) -> ChunkPlan:
    chunk = request.chunk_frames or DEFAULT_CHUNK_FRAMES
    carry = request.carry_frames or min(DEFAULT_CARRY_FRAMES, VIDEO_SCALE_FACTORS.usable_frames(source_frames))
    new = round(request.seconds * fps)
    return ChunkPlan(chunk, carry, new, math.ceil(new / max(chunk - carry, 1)))


def check_extend(request: ExtendRequest) -> SourceVideo:
    """The request's own rules and the source's (no model needed): the decoded source."""
    if not request.prompt.strip():
        raise ParameterError("prompt", 'no prompt: pass prompt="what the added seconds show"')
    if not request.seconds > 0:
        raise ParameterError("seconds", f"seconds={request.seconds:g} must be > 0 (how long to extend)")
    for name in ("chunk_frames", "carry_frames"):
        value = getattr(request, name)
        if value is not None and not VIDEO_SCALE_FACTORS.is_valid_num_frames(value):
            raise ParameterError(name, f"{name}={value} must be 8k+1 (e.g. 9, 25, 121)")
    source = read_source_video(request.video)
    p = chunk_plan(request, len(source.frames), source.fps)
    if p.carry > len(source.frames):
        raise ParameterError(
            "carry_frames", f"carry_frames={p.carry} is more than the video's {len(source.frames)} frames"
        )
    if request.backward and p.carry < 9:
        raise ParameterError("carry_frames", f"carry_frames={p.carry}: extending backward carries at least 9 frames")
    if p.carry >= p.chunk:
        raise ParameterError(
            "chunk_frames", f"chunk_frames={p.chunk} must be more than carry_frames={p.carry} (e.g. {p.carry + 96})"
        )
    if p.new_frames < 1:
        raise ParameterError("seconds", f"seconds={request.seconds:g} is less than one frame at {source.fps:g} fps")
    return source


class ExtendPipeline(EditingPipeline):
    """``pipe(ExtendRequest(...))`` → a ``MediaResult``: the source's frames and sound plus the new ones."""

    name = "extend"

    def check(self, request: ExtendRequest) -> SourceVideo:
        """One-line errors naming the parameter, before any model loads; returns the decoded source."""
        self.check_common(fields_of(request), request.seed, request.tiling)
        return check_extend(request)

    def estimate(self, request: ExtendRequest, source: SourceVideo) -> list[MemoryEstimate]:
        """One chunk's peaks (every chunk is the same size): its denoising and its decode."""
        shape = source.shape._replace(frames=chunk_plan(request, len(source.frames), source.fps).chunk)
        return self.stage_estimates(shape, source.has_audio and request.generate_audio, request.tiling)

    def __call__(self, request: ExtendRequest, *, progress: Progress = no_progress) -> MediaResult:
        source = self.check(request)
        return self.run(request, source, progress)

    def run(self, request: ExtendRequest, source: SourceVideo, progress: Progress = no_progress) -> MediaResult:
        r, seed, guidance = request, self.seed(request.seed), fields_of(request)
        plan = chunk_plan(r, len(source.frames), source.fps)
        contexts = self.contexts(r.prompt, guidance, r.enhance_prompt, seed, progress)
        frames = source.frames
        audio = source_audio(source) if source.has_audio and r.generate_audio else None
        for i in range(plan.count):
            step = _Chunk(self, plan, source.fps, r.backward, r.tiling, seed + i, f"chunk {i + 1}/{plan.count}")
            new_frames, new_audio = step.run(
                frames,
                audio,
                self.denoiser(contexts, guidance, True, audio is not None),
                guidance,
                progress,
            )
            frames = np.concatenate([new_frames, frames] if r.backward else [frames, new_frames])
            if audio is not None and new_audio is not None:
                audio = (
                    np.concatenate([new_audio, audio[0]] if r.backward else [audio[0], new_audio], axis=1),
                    audio[1],
                )
        total = len(source.frames) + plan.new_frames
        frames = frames[len(frames) - total :] if r.backward else frames[:total]
        if audio is not None:
            samples = round(total * audio[1] / source.fps)
            audio = (audio[0][:, audio[0].shape[1] - samples :] if r.backward else audio[0][:, :samples], audio[1])
        return MediaResult(frames, source.fps, seed, audio)


@dataclass(frozen=True)
class _Chunk:
    pipe: ExtendPipeline
    plan: ChunkPlan
    fps: float
    backward: bool
    tiling: str
    seed: int
    label: str

    def run(
        self, frames: np.ndarray, audio: tuple[np.ndarray, int] | None, denoiser, guidance: Guidance, progress: Progress
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """One canvas: carried frames (and sound) → the chunk's new frames (and samples)."""
        p, ledger = self.plan, self.pipe.ledger
        canvas = VideoPixelShape(1, p.chunk, frames.shape[1], frames.shape[2], self.fps)
        # 1. Carried latents: forward the last ``carry`` frames (an 8j+1 clip); backward the first ``carry`` frames'
        #    clip, of which the last j latent frames (pixel frames 1..8j) go at the canvas's end (the trainer's suffix:
        #    encoded with their context, not alone).
        carried = frames[: p.carry] if self.backward else frames[len(frames) - p.carry :]
        latent = encode_frames(ledger, carried)
        latent = latent[:, 1:] if self.backward else latent
        carried_audio = None
        if audio is not None:
            span = (
                (0.0, p.carry / self.fps)
                if self.backward
                else (len(frames) / self.fps - p.carry / self.fps, len(frames) / self.fps)
            )
            carried_audio = encode_waveform_span(ledger, audio[0], audio[1], *span)
        video_spec, audio_spec = extend_specs(latent, carried_audio, self.backward, canvas)
        # 2. Denoise the canvas; 3. decode it and keep the new part.
        video, audio_latent = self.pipe.one_stage(
            canvas, video_spec, audio_spec, self.seed, guidance, denoiser, progress, self.label
        )
        decoded = np.concatenate(list(decode_video(ledger, video, self.tiling, self.seed, progress)))
        keep = slice(0, p.per_chunk) if self.backward else slice(p.carry, p.chunk)
        new_audio = None
        if audio_latent is not None and audio is not None:
            waveform, rate = decode_audio(ledger, audio_latent, progress)
            waveform = _resample(waveform, rate, audio[1])
            n = round(p.per_chunk * audio[1] / self.fps)
            new_audio = waveform[:, :n] if self.backward else waveform[:, round(p.carry * audio[1] / self.fps) :][:, :n]
            new_audio = np.pad(new_audio, ((0, 0), (0, n - new_audio.shape[1])))
        return decoded[keep], new_audio


def _resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    from mlx_ltx_audio.resample import resample

    return waveform if rate == target else resample(waveform, rate, target).astype(np.float32)


__all__ = ["ChunkPlan", "ExtendPipeline", "ExtendRequest", "check_extend", "chunk_plan", "extend_specs"]
