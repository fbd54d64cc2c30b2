"""Audio file I/O (ports the audio half of ltx_pipelines/utils/media_io.py: ``decode_audio_from_file``).

Reads WAV, FLAC, MP3 and OGG with soundfile, anything else ffmpeg can decode (the audio track of a video)
through ffmpeg; the system ffmpeg when there is one, else imageio-ffmpeg's. Waveforms are float32
(channels, samples) in [−1, 1]; mono becomes stereo by duplication.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import ffmpeg
import numpy as np
import soundfile as sf


class Audio(NamedTuple):
    waveform: np.ndarray  # (channels, samples) float32
    sampling_rate: int


class AudioFileError(ValueError):
    """An audio file that cannot be read; the message names the file and what to do."""


def load_audio(path: str | os.PathLike, start_time: float = 0.0, max_duration: float | None = None) -> Audio:
    """Decode ``max_duration`` seconds (all when None) from ``start_time`` of an audio or video file.

    Returns stereo float32 (2, N) at the file's own sample rate.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file; pass an audio file or a video with an audio track")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty")
    if start_time < 0 or (max_duration is not None and max_duration <= 0):
        raise AudioFileError(f"{path}: start_time={start_time} must be >= 0 and max_duration={max_duration} > 0")
    try:
        data, rate = _read_soundfile(path, start_time, max_duration)
    except sf.LibsndfileError:
        data, rate = _read_ffmpeg(path, start_time, max_duration)
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: no audio after start_time={start_time}s; pass an earlier start time")
    return Audio(to_stereo(data.T, str(path)), rate)


def to_stereo(waveform: np.ndarray, where: str = "waveform") -> np.ndarray:
    """(C, N) -> (2, N) float32: mono is duplicated, stereo kept; more channels are an error."""
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 2 or waveform.shape[0] not in (1, 2):
        raise AudioFileError(
            f"{where}: {waveform.shape[0] if waveform.ndim == 2 else waveform.shape} channels; only mono or stereo "
            "is supported (downmix first, e.g. `ffmpeg -i IN -ac 2 OUT.wav`)"
        )
    return np.ascontiguousarray(np.repeat(waveform, 2 // waveform.shape[0], axis=0))


def save_wav(path: str | os.PathLike, audio: Audio, subtype: str = "FLOAT") -> Path:
    """Write (C, N) or (N,) samples as WAV (32-bit float by default; "PCM_16" for 16-bit)."""
    wave = np.asarray(audio.waveform, dtype=np.float32)
    wave = wave[None] if wave.ndim == 1 else wave
    sf.write(str(path), wave.T, int(audio.sampling_rate), subtype=subtype, format="WAV")
    return Path(path)


def ffmpeg_exe() -> str:
    """The system ffmpeg, else the one bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _read_soundfile(path: Path, start_time: float, max_duration: float | None) -> tuple[np.ndarray, int]:
    with sf.SoundFile(str(path)) as f:
        start = round(start_time * f.samplerate)
        frames = -1 if max_duration is None else round(max_duration * f.samplerate)
        if start >= f.frames:
            return np.zeros((0, f.channels), np.float32), f.samplerate
        if f.format == "MP3":
            # libsndfile 1.2 garbles the first MP3 frame of any read that does not start at 0: one read, then slice
            data = f.read(-1 if frames < 0 else start + frames, dtype="float32", always_2d=True)
            return data[start:], f.samplerate
        f.seek(start)
        return f.read(frames, dtype="float32", always_2d=True), f.samplerate


def _read_ffmpeg(path: Path, start_time: float, max_duration: float | None) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to a temporary float WAV (ffmpeg trims to the exact window)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "audio.wav")
        source = ffmpeg.input(str(path), ss=start_time) if start_time else ffmpeg.input(str(path))
        extra = {} if max_duration is None else {"t": max_duration}
        stream = ffmpeg.output(source["a:0"], out, acodec="pcm_f32le", f="wav", **extra)
        try:
            stream.run(cmd=ffmpeg_exe(), capture_stdout=True, capture_stderr=True, overwrite_output=True)
        except ffmpeg.Error as e:
            raise AudioFileError(f"{path}: cannot decode audio ({_last_line(e.stderr)})") from None
        try:
            data, rate = sf.read(out, dtype="float32", always_2d=True)
        except sf.LibsndfileError:  # ffmpeg wrote no samples (window past the end)
            return np.zeros((0, 1), np.float32), 0
        return data, rate


def _last_line(stderr: bytes | None) -> str:
    lines = [ln.strip() for ln in (stderr or b"").decode(errors="replace").splitlines() if ln.strip()]
    if any("matches no streams" in ln for ln in lines):
        return "no audio stream"
    return lines[-1] if lines else "ffmpeg failed"
