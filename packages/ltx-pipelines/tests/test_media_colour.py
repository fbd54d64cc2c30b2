"""Colour-bar round trip: MP4s are BT.709-encoded and tagged, so a player that honours the tags (and a browser,
which decodes untagged HD as BT.709) shows the colours that were written."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from mlx_ltx_pipelines.media import read_video, write_video
from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) not installed")

# Primaries, secondaries, white, grey, and the two colours issue 14 saw shift in a browser.
BARS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 255, 255), (255, 0, 255), (255, 255, 0)]
BARS += [(255, 255, 255), (128, 128, 128), (30, 200, 30), (200, 30, 30)]
SIZES = [(1024, 1536), (768, 512)]  # (height, width): HD landscape, SD portrait


def _bars(height: int, width: int) -> np.ndarray:
    """(height, width, 3) uint8 vertical bars, one per colour of BARS."""
    index = np.arange(width) * len(BARS) // width
    return np.broadcast_to(np.array(BARS, np.uint8)[index][None], (height, width, 3)).copy()


def _bar_centres(frame: np.ndarray) -> np.ndarray:
    """(len(BARS), 3) int pixel at the middle of each bar."""
    height, width = frame.shape[:2]
    columns = [(2 * i + 1) * width // (2 * len(BARS)) for i in range(len(BARS))]
    return frame[height // 2, columns].astype(int)


def _probe_video(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(out.stdout)["streams"][0]


def _decode_as_a_player(path) -> np.ndarray:
    """First frame as RGB, converted with the matrix and range the stream is tagged with; untagged streams get a
    browser's guess (BT.709 from 720 lines up, else BT.601) and limited range."""
    stream = _probe_video(path)
    guess = "bt709" if int(stream["height"]) >= 720 else "bt601"
    matrix = {"bt709": "bt709", "smpte170m": "bt601", "bt470bg": "bt601"}.get(stream.get("color_space", ""), guess)
    value_range = "pc" if stream.get("color_range") == "pc" else "tv"
    vf = f"scale=in_color_matrix={matrix}:in_range={value_range},format=rgb24"
    cmd = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", vf, "-frames:v", "1", "-f", "rawvideo", "pipe:"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(int(stream["height"]), int(stream["width"]), 3)


@pytest.fixture(params=["ffmpeg on PATH", "imageio-ffmpeg's"])
def ffmpeg_binary(request, monkeypatch):
    """Run the writer with each ffmpeg a user may end up with: the system's and the one bundled in the wheel."""
    if request.param == "imageio-ffmpeg's":
        import imageio_ffmpeg

        monkeypatch.setenv("LTX_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    elif shutil.which("ffmpeg") is None:
        pytest.skip("no ffmpeg on PATH")
    ffmpeg_exe.cache_clear()
    yield request.param
    ffmpeg_exe.cache_clear()


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_colour_bars_round_trip_within_4_levels_and_the_stream_is_tagged_bt709(tmp_path, ffmpeg_binary, height, width):
    bars = _bars(height, width)
    silence = (np.zeros((2, 6000), np.float32), 48000)  # muxing audio copies the video stream: tags survive it
    path = write_video(tmp_path / "bars.mp4", [np.stack([bars] * 3)], fps=24.0, audio=silence)
    stream = _probe_video(path)
    tags = [stream.get(k) for k in ("color_space", "color_primaries", "color_transfer", "color_range")]
    assert tags == ["bt709", "bt709", "bt709", "tv"]
    error = np.abs(_bar_centres(_decode_as_a_player(path)) - np.array(BARS))
    assert error.max() <= 4, dict(zip(BARS, error.max(axis=1).tolist(), strict=True))
    # Our own reader (video conditioning, `ltx upscale`) honours the tags too.
    frames, _fps = read_video(path, max_frames=1)
    assert np.abs(_bar_centres(next(frames)) - np.array(BARS)).max() <= 4


def test_an_untagged_bt601_encode_is_what_a_browser_shows_wrong_at_hd(tmp_path):
    """The check above can fail: ffmpeg's default (BT.601, no tags) is off by far more than 4 levels at 1536×1024."""
    height, width = SIZES[0]
    path = tmp_path / "untagged.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-i", "pipe:"]
    subprocess.run([*cmd, "-vcodec", "libx264", "-pix_fmt", "yuv420p", str(path)], input=_bars(height, width).tobytes())
    assert "color_space" not in _probe_video(path)
    centres = _bar_centres(_decode_as_a_player(path))
    green = BARS.index((30, 200, 30))
    assert np.abs(centres[green] - np.array(BARS[green])).max() > 20  # plays as about (16, 173, 31)
