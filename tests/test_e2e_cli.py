"""End to end through the `ltx` command (subprocesses) with the tiny model: a Lightricks-format checkpoint converted
by ltx-convert, every pipeline, and every MP4 checked with ffprobe."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from cli_testing import probe, run_ltx

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")
TINY = ["generate", "--model", "tiny", "-p", "a red fox runs through snow"]


def _ok(result) -> None:
    assert result.returncode == 0, result.stderr[-2000:]


def _check_mp4(path: Path, frames: int, size: tuple[int, int], fps: float = 24.0, audio: bool = True) -> dict:
    info = probe(path)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    sound = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1
    assert len(sound) == (1 if audio else 0)
    v = video[0]
    assert (v["codec_name"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert (v["width"], v["height"]) == size
    assert int(v["nb_read_frames"]) == frames
    num, den = map(int, v["r_frame_rate"].split("/"))
    assert num / den == pytest.approx(fps)
    if audio:
        a = sound[0]
        assert a["codec_name"] == "aac"
        assert int(a["channels"]) == 2
        # AAC codes 1024-sample frames: the streams agree to within one.
        assert abs(float(v["duration"]) - float(a["duration"])) <= 1024 / int(a["sample_rate"]) + 1e-3
    return info


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny) -> Path:  # `tiny` builds the cached model once for all subprocesses
    return tmp_path_factory.mktemp("cli")


def test_t2v_with_joint_audio_latents_and_decode(workdir, ltx_cache):
    _ok(run_ltx([*TINY, "-o", "t2v.mp4", "--save-latents", "--output-audio", "t2v.wav"], ltx_cache, workdir))
    _check_mp4(workdir / "t2v.mp4", frames=9, size=(192, 128))
    with wave.open(str(workdir / "t2v.wav")) as f:
        assert (f.getnchannels(), f.getframerate()) == (2, 48000)
    latents = load_file(str(workdir / "t2v.latents.safetensors"))
    assert latents["video_latent"].shape == (1, 2, 4, 6, 8)
    _ok(run_ltx(["decode", "t2v.latents.safetensors", "-o", "decoded.mp4"], ltx_cache, workdir))
    _check_mp4(workdir / "decoded.mp4", frames=9, size=(192, 128))


def test_same_seed_gives_identical_latents(workdir, ltx_cache):
    """… and --low-memory (the blocks read from disk one at a time) gives the same latents too."""
    for name, extra in (("a", []), ("b", []), ("low", ["--low-memory"])):
        _ok(run_ltx([*TINY, "-s", "7", "-o", f"seed-{name}.mp4", "--save-latents", *extra], ltx_cache, workdir))
    a, b, low = (load_file(str(workdir / f"seed-{n}.latents.safetensors")) for n in ("a", "b", "low"))
    assert sorted(a) == sorted(low)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], low[key])


@pytest.mark.parametrize(
    ("name", "args", "size"),
    [
        ("i2v", ["-i", "{image}"], (192, 128)),
        ("keyframes", ["--pipeline", "keyframe", "-i", "{image}", "0", "1.0", "-i", "{image}", "8", "0.8"], (192, 128)),
        ("dev", ["--pipeline", "dev", "--steps", "2"], (96, 64)),  # one stage: half the two-stage default
        ("two-stage", ["--pipeline", "dev-two-stage", "--steps", "2", "--cfg-scale", "2.5"], (192, 128)),
        ("hq", ["--pipeline", "dev-two-stage-hq", "--steps", "2"], (192, 128)),
        (
            "ic-lora",
            [
                "--pipeline",
                "ic-lora",
                "--lora-path",
                "{ic_lora}",
                "0.9",
                "--video-conditioning",
                "{video}",
                "1.0",
                "-H",
                "256",
                "-W",
                "384",
            ],
            (384, 256),
        ),
    ],
)
def test_pipelines_write_h264_with_aac(workdir, ltx_cache, media, name, args, size):
    args = [a.format(**media) for a in args]
    _ok(run_ltx([*TINY, "-o", f"{name}.mp4", *args], ltx_cache, workdir))
    _check_mp4(workdir / f"{name}.mp4", frames=9, size=size)


def test_audio_to_video_keeps_the_input_audio(workdir, ltx_cache, media):
    _ok(
        run_ltx(
            [*TINY, "-o", "a2v.mp4", "--audio-file", media["audio"], "--output-audio", "a2v.wav"], ltx_cache, workdir
        )
    )
    _check_mp4(workdir / "a2v.mp4", frames=9, size=(192, 128))
    with wave.open(str(workdir / "a2v.wav")) as f:
        samples = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, 2)
        assert f.getframerate() == 48000
    assert len(samples) == round(9 / 24 * 48000)  # exactly the video's duration
    expected = np.sin(2 * np.pi * 440 * np.arange(len(samples)) / 48000) * 0.3
    np.testing.assert_allclose(samples[:, 0] / 32767, expected, atol=2e-3)  # the input tone, untouched


def test_no_audio_frames_and_no_stream(workdir, ltx_cache):
    _ok(run_ltx([*TINY, "-o", "silent.mp4", "--no-audio", "--save-frames", "--no-stream"], ltx_cache, workdir))
    _check_mp4(workdir / "silent.mp4", frames=9, size=(192, 128), audio=False)
    assert len(list((workdir / "silent_frames").glob("frame_*.png"))) == 9


def test_upscale_an_image_and_a_video(workdir, ltx_cache, media):
    from PIL import Image

    _ok(run_ltx(["upscale", "--model", "tiny", "--input", media["image"], "-o", "up.png"], ltx_cache, workdir))
    with Image.open(workdir / "up.png") as image:
        assert image.size == (256, 192)  # 150x100 cropped to 128x96, then ×2
    _ok(run_ltx(["upscale", "--model", "tiny", "--input", media["video"], "-o", "up.mp4"], ltx_cache, workdir))
    _check_mp4(workdir / "up.mp4", frames=17, size=(192, 128), audio=False)


def test_convert_and_info(workdir, ltx_cache, tiny):
    from lightricks_files import golden_checkpoint

    ckpt = golden_checkpoint(workdir / "ltx-2-tiny.safetensors", "ltx2_av")
    _ok(run_ltx(["convert", ckpt, "-o", "converted"], ltx_cache, workdir))
    info = run_ltx(["info", "converted"], ltx_cache, workdir)
    _ok(info)
    assert "transformer" in info.stdout
    assert "ltx-2 2.0.0" in info.stdout
    verified = run_ltx(["info", tiny[0], "--verify"], ltx_cache, workdir)
    _ok(verified)
    assert verified.stdout.count("sha256 ok") == 11  # 7 components, 3 upscalers and the distilled LoRA
