"""Audio length and rates (issue 14 item 5): the WAV and the MP4 track hold exactly round(frames / fps · rate)
samples; A2V audio shorter than the video is padded with a warning naming both lengths and written at 48 kHz
whatever the input rate; NTSC rates are written as N000/1001. Checked with ffprobe."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from cli_testing import probe, run_ltx


def _audio_stream(path: Path) -> dict:
    return next(s for s in probe(path)["streams"] if s["codec_type"] == "audio")


def test_wav_and_mp4_track_hold_exactly_the_videos_samples_and_the_mp4_its_provenance(tiny, ltx_cache, tmp_path):
    """Also (issue 14 items 9, 10): the MP4's tags name prompt, seed, pipeline, model and version (`ltx info` prints
    them), and the closing "wrote PATH" is one line however long the path."""
    folder = tmp_path / ("a-rather-long-folder-name-" * 3)
    folder.mkdir()
    out = folder / "a.mp4"
    args = ["generate", "--model", "tiny", "-p", "a test", "-n", "17", "-H", "64", "-W", "64", "-s", "7"]
    result = run_ltx([*args, "-o", out, "--output-audio", "a.wav"], ltx_cache, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout.splitlines(), result.stdout
    track, wav = _audio_stream(out), _audio_stream(tmp_path / "a.wav")
    rate = int(track["sample_rate"])
    assert int(wav["sample_rate"]) == rate
    assert int(track["duration_ts"]) == int(wav["duration_ts"]) == round(17 / 24 * rate)
    info = run_ltx(["info", out], ltx_cache, tmp_path)
    assert info.returncode == 0, info.stderr
    tags = dict(line.split(": ", 1) for line in info.stdout.splitlines())
    assert tags["prompt"] == "a test" and tags["seed"] == "7" and tags["pipeline"] == "distilled"
    assert tags["model"] == "tiny" and tags["mlx_ltx_version"]


def test_short_a2v_audio_is_padded_with_a_warning_and_written_at_48_khz(tiny, ltx_cache, tmp_path) -> None:
    with wave.open(str(tmp_path / "short.wav"), "wb") as f:  # 0.25 s at 8 kHz for a 17-frame (0.567 s) video
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes((np.sin(np.arange(2000) / 8000 * 2 * np.pi * 440) * 9000).astype("<i2").tobytes())
    args = [
        "generate",
        "--model",
        "tiny",
        "-p",
        "a test",
        "-n",
        "17",
        "-H",
        "64",
        "-W",
        "64",
        "--fps",
        "29.97",
        "-o",
        "a.mp4",
    ]
    result = run_ltx([*args, "--audio-file", "short.wav", "--output-audio", "a.wav"], ltx_cache, tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.stderr
    assert "0.250 s of audio" in warnings[0] and "0.567 s video" in warnings[0], warnings[0]
    samples = round(17 / (30000 / 1001) * 48000)
    for path in (tmp_path / "a.mp4", tmp_path / "a.wav"):
        track = _audio_stream(path)
        assert int(track["sample_rate"]) == 48000
        assert int(track["duration_ts"]) == samples
    video = next(s for s in probe(tmp_path / "a.mp4")["streams"] if s["codec_type"] == "video")
    assert video["r_frame_rate"] == "30000/1001"


def test_upscale_says_what_it_crops_and_reports_every_stage(tiny, ltx_cache, media, tmp_path) -> None:
    result = run_ltx(["upscale", "--model", "tiny", "--input", media["image"], "-o", "up.png"], ltx_cache, tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    expected = "input is 150x100: center-cropped to 128x96 (multiples of 32, the VAE's stride); the output is 256x192"
    assert warnings == [f"warning: {expected}"], result.stderr
    for stage in ("load", "encode", "upsample", "decode", "write"):
        assert f"{stage}: 1/1" in result.stdout, result.stdout
