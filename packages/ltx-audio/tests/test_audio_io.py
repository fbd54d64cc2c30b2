"""Audio file I/O on real files written in the test: a stereo sine sweep as WAV, FLAC, MP3, OGG and inside an MP4."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mlx_ltx_audio import Audio, AudioFileError, load_audio, save_wav
from mlx_ltx_audio.audio_io import ffmpeg_exe

RATE = 44100
SECONDS = 2.0
AAC_FRAME = 1024  # the MP4 track may end with a partly filled AAC frame


def sweep(rate: int = RATE, seconds: float = SECONDS) -> np.ndarray:
    """Stereo (N, 2) 200 Hz -> 4 kHz linear chirp, right channel at half amplitude."""
    t = np.arange(round(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * (200 * t + (4000 - 200) / (2 * seconds) * t**2))
    return np.stack([mono, 0.5 * mono], axis=1).astype(np.float32)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    data = sweep()
    out = {}
    for ext, kwargs in [
        ("wav", {"subtype": "FLOAT"}),
        ("flac", {}),
        ("mp3", {"format": "MP3"}),
        ("ogg", {"format": "OGG", "subtype": "VORBIS"}),
    ]:
        out[ext] = folder / f"sweep.{ext}"
        sf.write(out[ext], data, RATE, **kwargs)
    out["mp4"] = folder / "sweep.mp4"
    video = ["-f", "lavfi", "-i", "color=c=black:s=64x64:r=25", "-c:v", "libx264", "-preset", "ultrafast"]
    ffmpeg(*video[:4], "-i", str(out["wav"]), *video[4:], "-c:a", "aac", "-shortest", str(out["mp4"]))
    return out


def best_lag(segment: np.ndarray, start: int) -> int:
    """The shift (samples) that best aligns a decoded left channel with the original sweep at ``start``."""
    ref = sweep()[:, 0]
    inner = slice(200, len(segment) - 200)
    errs = {lag: np.mean((segment[inner] - ref[start + lag :][inner]) ** 2) for lag in range(-100, 101)}
    return min(errs, key=errs.get)


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg", "mp4"])
def test_full_file(files: dict[str, Path], ext: str) -> None:
    audio = load_audio(files[ext])
    assert audio.sampling_rate == RATE
    assert audio.waveform.dtype == np.float32
    assert audio.waveform.shape[0] == 2
    n = audio.waveform.shape[1]
    expected = round(RATE * SECONDS)
    assert expected <= n <= expected + (AAC_FRAME if ext == "mp4" else 0), n
    # right channel is the left at half amplitude: channels are not swapped or mixed
    rms = np.sqrt(np.mean(audio.waveform**2, axis=1))
    assert rms[1] / rms[0] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg", "mp4"])
def test_start_time_and_duration(files: dict[str, Path], ext: str) -> None:
    start, n = round(0.5 * RATE), round(0.75 * RATE)
    audio = load_audio(files[ext], start_time=0.5, max_duration=0.75)
    assert audio.waveform.shape == (2, n)
    # the same samples as a full decode (libsndfile garbles MP3 reads that start mid-file), aligned with the source
    np.testing.assert_allclose(audio.waveform, load_audio(files[ext]).waveform[:, start : start + n], atol=1e-4)
    assert best_lag(audio.waveform[0], start) == 0
    if ext in ("wav", "flac"):
        np.testing.assert_allclose(audio.waveform.T, sweep()[start : start + n], atol=1e-4)


def test_duration_past_the_end_is_cut(files: dict[str, Path]) -> None:
    audio = load_audio(files["flac"], start_time=1.5, max_duration=10.0)
    assert audio.waveform.shape == (2, round(0.5 * RATE))


def test_mono_becomes_stereo(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(path, sweep(16000, 0.5)[:, 0], 16000, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.waveform.shape == (2, 8000)
    assert audio.sampling_rate == 16000
    np.testing.assert_array_equal(audio.waveform[0], audio.waveform[1])


def test_save_wav_round_trip(tmp_path: Path) -> None:
    wave = sweep(24000, 0.25).T.copy()
    path = save_wav(tmp_path / "out.wav", Audio(wave, 24000))
    back = load_audio(path)
    assert back.sampling_rate == 24000
    np.testing.assert_array_equal(back.waveform, wave)


def _one_line_error(path: Path, match: str, **kwargs: float) -> None:
    with pytest.raises(AudioFileError, match=match) as info:
        load_audio(path, **kwargs)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    _one_line_error(tmp_path / "nope.wav", "no such file")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    _one_line_error(tmp_path / "empty.mp3", "empty")


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _one_line_error(path, "cannot decode")


def test_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:r=25:d=0.2", "-c:v", "libx264", str(path))
    _one_line_error(path, "no audio stream")


def test_bad_window(files: dict[str, Path]) -> None:
    _one_line_error(files["wav"], "no audio after", start_time=5.0)
    _one_line_error(files["mp4"], "no audio after", start_time=5.0)
    _one_line_error(files["wav"], "start_time", start_time=-1.0)
    _one_line_error(files["wav"], "max_duration", max_duration=0.0)


def test_more_than_two_channels(tmp_path: Path) -> None:
    path = tmp_path / "quad.wav"
    sf.write(path, np.zeros((1000, 4), np.float32), 16000)
    _one_line_error(path, "only mono or stereo")
