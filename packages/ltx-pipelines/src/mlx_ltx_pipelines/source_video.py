"""An existing video as the input of the editing pipelines (retake, extend, foley): its frames, frame rate and sound,
checked before any model loads, and their latents (ports ``video_latent_from_file`` / ``audio_latent_from_file`` of
ltx_pipelines/utils/helpers.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media.image import normalize_pixels
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.stages import AudioConditioningInput, encode_audio_input, free
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS, VideoPixelShape


@dataclass(frozen=True, eq=False)
class SourceVideo:
    """``frames`` (F, H, W, 3) uint8 with F = 8k+1 and H, W multiples of 32, at ``fps``; ``has_audio``: the file
    has a sound track."""

    path: Path
    frames: np.ndarray
    fps: float
    has_audio: bool

    @property
    def shape(self) -> VideoPixelShape:
        f, h, w, _ = self.frames.shape
        return VideoPixelShape(1, f, h, w, self.fps)

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


def read_source_video(path: str | os.PathLike, parameter: str = "video") -> SourceVideo:
    """Decode every frame; the reference's rules (8k+1 frames, sides multiples of 32) are one-line errors."""
    from mlx_ltx_pipelines.media import read_video

    path = Path(path)
    if not path.is_file():
        raise ParameterError(parameter, f"{path}: no such video file; pass an MP4/MOV/WebM")
    stream, fps = read_video(path)
    frames = list(stream)
    if not frames:
        raise ParameterError(parameter, f"{path}: no frame can be decoded; pass a video file ffmpeg reads")
    n, (h, w) = len(frames), frames[0].shape[:2]
    t, s = VIDEO_SCALE_FACTORS.time, VIDEO_SCALE_FACTORS.height
    if not VIDEO_SCALE_FACTORS.is_valid_num_frames(n):
        usable = VIDEO_SCALE_FACTORS.usable_frames(n)
        raise ParameterError(
            parameter,
            f"{path}: {n} frames; the video VAE takes {t}k+1 frames: cut it to {usable} "
            f"(ffmpeg -i IN -frames:v {usable} OUT.mp4)",
        )
    if h % s or w % s:
        raise ParameterError(
            parameter, f"{path}: {w}x{h} pixels; width and height must be multiples of {s}: crop or scale it first"
        )
    return SourceVideo(path, np.stack(frames), fps, has_audio(path))


def has_audio(path: Path) -> bool:
    from mlx_ltx_audio import AudioFileError, load_audio

    try:
        load_audio(path, max_duration=0.1)
    except AudioFileError:
        return False
    return True


def encode_frames(ledger: ModelLedger, frames: np.ndarray) -> mx.array:
    """(F, H, W, 3) uint8 → video latent (1, F', H/32, W/32, C) through the VAE encoder (loaded, then dropped)."""
    encoder = ledger.video_encoder()
    latent = encoder(normalize_pixels(frames)[None])
    mx.eval(latent)
    del encoder
    free()
    return latent


def encode_source_audio(ledger: ModelLedger, source: SourceVideo) -> tuple[mx.array, np.ndarray, int]:
    """The sound track → (latent (1, T, 16, 8) of the video's duration, waveform (2, n) at 48 kHz, 48000)."""
    return encode_audio_input(ledger, AudioConditioningInput(str(source.path)), len(source.frames), source.fps)


def source_audio(source: SourceVideo) -> tuple[np.ndarray, int]:
    """The sound track as (waveform (2, n) float32, 48000), exactly the video's length (silence-padded)."""
    from mlx_ltx_audio import load_audio
    from mlx_ltx_audio.resample import resample
    from mlx_ltx_pipelines.media.video import fit_length
    from mlx_ltx_pipelines.stages import OUTPUT_SAMPLE_RATE

    wav = load_audio(source.path, max_duration=source.duration)
    track = np.asarray(wav.waveform, np.float32)
    if wav.sampling_rate != OUTPUT_SAMPLE_RATE:
        track = resample(track, wav.sampling_rate, OUTPUT_SAMPLE_RATE).astype(np.float32)
    return fit_length(track, round(source.duration * OUTPUT_SAMPLE_RATE)), OUTPUT_SAMPLE_RATE


def encode_waveform_span(ledger: ModelLedger, waveform: np.ndarray, rate: int, start: float, end: float) -> mx.array:
    """Seconds [start, end) of a (2, n) waveform → audio latent (1, T, 16, 8), T = round((end − start) · 25)."""
    from mlx_ltx_audio import Audio, encode_waveform
    from mlx_ltx_pipelines.media.video import fit_length
    from mlx_ltx_pipelines.types import AudioLatentShape

    samples = round((end - start) * rate)
    span = fit_length(waveform[:, max(round(start * rate), 0) :], samples)
    encoder = ledger.audio_encoder()
    latent = encode_waveform(Audio(span, rate), encoder)[:, : AudioLatentShape.from_duration(1, end - start).frames]
    mx.eval(latent)
    del encoder
    free()
    return latent
