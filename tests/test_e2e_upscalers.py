"""The x1.5 spatial and the temporal x2 latent upscalers in the two-stage pipelines and `ltx upscale`, end to end on
the tiny model (its Lightricks-format upscaler files converted by ltx-convert); sizes, frame counts and frame rates
read back with ffprobe (issue 17 item 7)."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from cli_testing import probe, run_ltx

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")
TINY = ["generate", "--model", "tiny", "-p", "a red fox runs through snow"]


def _video(path) -> tuple[tuple[int, int], int, float, float, float | None]:
    """(width, height), frames, fps, video duration and audio duration (None without sound) of an MP4."""
    streams = probe(path)["streams"]
    (v,) = [s for s in streams if s["codec_type"] == "video"]
    sound = [float(s["duration"]) for s in streams if s["codec_type"] == "audio"]
    num, den = map(int, v["r_frame_rate"].split("/"))
    return (v["width"], v["height"]), int(v["nb_read_frames"]), num / den, float(v["duration"]), next(iter(sound), None)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny):
    return tmp_path_factory.mktemp("upscalers")


@pytest.mark.parametrize(
    ("name", "args", "size"),
    [
        ("x1.5", ["-H", "192", "-W", "288"], (288, 192)),  # stage 1 at 192x128 (2/3), latent 4x6 -> 6x9
        ("x1.5-default-size", [], (96, 96)),  # 1.5x the x2 default's stage 1 (96x64 -> 144x96), rounded to 96
        ("x1.5-dev-two-stage", ["--pipeline", "dev-two-stage", "--steps", "2", "-H", "96", "-W", "192"], (192, 96)),
    ],
)
def test_x1_5_spatial_upscaler_gives_the_requested_size(workdir, ltx_cache, name, args, size):
    done = run_ltx([*TINY, "--spatial-upscale", "1.5", "-o", f"{name}.mp4", *args], ltx_cache, workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    got_size, frames, fps, _, _ = _video(workdir / f"{name}.mp4")
    assert (got_size, frames, fps) == (size, 9, 24.0)


@pytest.mark.parametrize(
    ("name", "args", "frames", "fps"),
    [
        ("t2", ["-n", "17"], 33, 48.0),  # 2(17 - 1) + 1 frames at twice 24 fps
        ("t2-30fps", ["--fps", "30"], 17, 60.0),
        ("t2-keyframes-x1.5", ["--pipeline", "keyframe", "-i", "{image}", "0", "1", "-i", "{image}", "8", "1"], 17, 48),
    ],
)
def test_temporal_upscaler_doubles_frames_and_frame_rate(workdir, ltx_cache, media, name, args, frames, fps):
    args = [a.format(**media) for a in args]
    if name.endswith("x1.5"):
        args += ["--steps", "2", "--spatial-upscale", "1.5", "-H", "96", "-W", "192"]
    done = run_ltx([*TINY, "--temporal-upscale", "-o", f"{name}.mp4", *args], ltx_cache, workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    size, got_frames, got_fps, duration, audio = _video(workdir / f"{name}.mp4")
    assert (got_frames, got_fps) == (frames, fps)
    assert size == ((192, 96) if name.endswith("x1.5") else (192, 128))
    assert duration == pytest.approx(frames / fps, abs=1e-3)
    assert audio is not None and abs(audio - duration) <= 1024 / 48000 + 1e-3  # the track is cut to the video


def test_temporal_upscale_is_deterministic(workdir, ltx_cache):
    from safetensors.numpy import load_file

    for name in ("a", "b"):
        done = run_ltx([*TINY, "--temporal-upscale", "-o", f"same-{name}.mp4", "--save-latents"], ltx_cache, workdir)
        assert done.returncode == 0, done.stderr[-2000:]
    a, b = (load_file(str(workdir / f"same-{n}.latents.safetensors")) for n in ("a", "b"))
    assert a["video_latent"].shape == (1, 3, 4, 6, 8)  # 2 latent frames -> 3
    assert all((a[k] == b[k]).all() for k in a)


def test_ltx_upscale_x1_5_crops_to_64_and_scales_by_1_5(workdir, ltx_cache, media):
    done = run_ltx(
        ["upscale", "--model", "tiny", "--input", str(media["image"]), "-o", "up15.png", "--spatial-upscale", "1.5"],
        ltx_cache,
        workdir,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "center-cropped to 128x64" in done.stderr  # 150x100 -> multiples of 64 (an even latent)
    with Image.open(workdir / "up15.png") as image:
        assert image.size == (192, 96)
