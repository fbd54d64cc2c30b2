"""MP4 writing and reading through ffmpeg, checked with ffprobe (real files in tmp_path)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from mlx_ltx_pipelines.media import VideoWriter, read_video, to_uint8_frames, write_video

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) not installed")


def _probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(out.stdout)


def _chunks(frames: int, h: int, w: int, chunk: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, size=(frames, h, w, 3), dtype=np.uint8)
    return [video[i : i + chunk] for i in range(0, frames, chunk)]


@pytest.mark.parametrize(("fps", "sample_rate"), [(24.0, 48000), (25.0, 24000)])
def test_streamed_chunks_with_audio_make_one_h264_and_one_aac_stream_of_equal_duration(tmp_path, fps, sample_rate):
    path = tmp_path / "out.mp4"
    t = np.arange(sample_rate * 2) / sample_rate  # 2 s of audio for a ~0.7 s video: trimmed to the frames
    audio = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]).astype(np.float32) * 0.5
    write_video(path, _chunks(17, 64, 96, chunk=8), fps=fps, audio=(audio, sample_rate))
    info = _probe(path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    sound = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert len(info["streams"]) == 2
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 96, 64)
    assert int(video["nb_read_frames"]) == 17
    num, den = map(int, video["r_frame_rate"].split("/"))
    assert num / den == pytest.approx(fps)
    assert (sound["codec_name"], int(sound["sample_rate"]), int(sound["channels"])) == ("aac", sample_rate, 2)
    # AAC works in 1024-sample frames: the streams agree to within one of them.
    assert abs(float(video["duration"]) - float(sound["duration"])) <= 1024 / sample_rate + 1e-3
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left


def test_read_video_returns_the_frames_written(tmp_path):
    path = write_video(tmp_path / "v.mp4", _chunks(9, 32, 48, chunk=9), fps=24.0)
    frames, fps = read_video(path)
    frames = list(frames)
    assert fps == pytest.approx(24.0)
    assert len(frames) == 9
    assert frames[0].shape == (32, 48, 3)
    assert frames[0].dtype == np.uint8
    first, _ = read_video(path, max_frames=4)
    assert len(list(first)) == 4


def test_existing_output_is_not_overwritten_and_errors_leave_nothing(tmp_path):
    path = write_video(tmp_path / "v.mp4", _chunks(9, 32, 48, chunk=9), fps=24.0)
    with pytest.raises(ValueError, match="already exists; pass overwrite=True"):
        VideoWriter(path, fps=24.0)
    chunks = [np.zeros((2, 32, 48, 3), np.uint8), np.zeros((2, 32, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match="differs from the first chunk"):
        write_video(tmp_path / "broken.mp4", chunks, fps=24.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_unreadable_inputs_fail_with_one_line(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot be decoded"):
        read_video(junk)
    with pytest.raises(ValueError, match="output folder does not exist"):
        VideoWriter(tmp_path / "nowhere" / "x.mp4", fps=24.0)


def test_decoder_range_maps_to_uint8_by_truncation():
    x = np.array([-1.5, -1.0, 0.0, 0.999, 1.0, 2.0], np.float32).reshape(1, 1, 1, 2, 3)
    np.testing.assert_array_equal(to_uint8_frames(x).ravel(), [0, 0, 127, 254, 255, 255])


def test_close_reports_the_frames_encoded_then_muxed(tmp_path):
    frames = np.random.default_rng(1).integers(0, 256, (48, 256, 384, 3), dtype=np.uint8)
    calls: list[tuple[str, int, int]] = []
    with VideoWriter(tmp_path / "p.mp4", 24.0) as w:
        for chunk in np.split(frames, 4):
            w.write(chunk)
        w.close(audio=(np.zeros((2, 48000), np.float32), 48000), progress=lambda *call: calls.append(call))
    assert {(stage, total) for stage, _, total in calls} == {("h264", 48), ("mux", 48)}  # frames of the video
    assert [stage for stage, _, _ in calls] == sorted(stage for stage, _, _ in calls)  # h264 first, then mux
    for stage in ("h264", "mux"):
        done = [d for s, d, _ in calls if s == stage]
        assert done == sorted(done) and done[-1] == 48, (stage, done)
    assert max(d for s, d, _ in calls[:-1] if s == "mux") <= 47  # the mux is complete once the file is in place
    assert w.frames_encoded == 48  # ffmpeg's own count of the frames it encoded
