"""HDR writers on real files: the HLG master is HEVC Main10 that ffprobe reports as BT.2020 / ARIB STD-B67 /
bt2020nc / limited range and decodes back to our YUV codes; EXR frames decode back to the written values (half
precision) and carry the chromaticities / colorSpace the reference writes; failures leave nothing behind."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mlx_ltx_pipelines.hdr import Primaries, hlg_signal, rgb_to_yuv420p10
from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe
from mlx_ltx_pipelines.media.hdr_video import HlgVideoWriter, exr_attributes, write_exr_frames

RNG = np.random.default_rng(0)
FRAMES = np.exp(RNG.uniform(np.log(0.01), np.log(8.0), (5, 128, 96, 3))).astype(np.float32)


def _probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["streams"][0]


@pytest.mark.parametrize("size", [(64, 96), (128, 64)], ids=["64x96", "128x64"])
def test_hlg_master_is_tagged_bt2020_hlg_and_decodes_to_our_codes(tmp_path: Path, size: tuple[int, int]) -> None:
    h, w = size
    frames = FRAMES[:, :h, :w]
    with HlgVideoWriter(tmp_path / "hlg.mp4", fps=24, lossless=True) as writer:
        writer.write(frames[:3])
        writer.write(frames[3:])
        writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hlg.mp4"]
    s = _probe(tmp_path / "hlg.mp4")
    assert (s["codec_name"], s["pix_fmt"], s["width"], s["height"], s["nb_read_frames"]) == (
        "hevc", "yuv420p10le", size[1], size[0], "5",
    )  # fmt: skip
    assert (s["color_primaries"], s["color_transfer"], s["color_space"], s["color_range"]) == (
        "bt2020", "arib-std-b67", "bt2020nc", "tv",
    )  # fmt: skip
    decode = [ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "hlg.mp4"), "-f", "rawvideo", "-pix_fmt", "yuv420p10le"]
    raw = subprocess.run([*decode, "-"], capture_output=True, check=True).stdout
    y = np.frombuffer(raw, "<u2").reshape(5, -1)[:, : h * w].reshape(5, h, w)
    np.testing.assert_array_equal(y, rgb_to_yuv420p10(hlg_signal(frames))[0])  # lossless HEVC: our codes exactly


def test_exr_frames_round_trip_and_carry_the_tags(tmp_path: Path) -> None:
    count = write_exr_frames([FRAMES[:2], FRAMES[2:]], tmp_path / "exr", Primaries.ACESCG, "ACEScg")
    assert count == 5
    names = sorted(p.name for p in (tmp_path / "exr").iterdir())
    assert names == [f"frame_{i:05d}.exr" for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exr"]  # no partial folder left
    attrs = exr_attributes(tmp_path / "exr" / "frame_00003.exr")
    assert attrs["colorSpace"] == ("string", b"ACEScg")
    kind, value = attrs["chromaticities"]
    assert kind == "chromaticities"
    np.testing.assert_allclose(struct.unpack("<8f", value), Primaries.ACESCG.exr_chromaticities, rtol=1e-6)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "exr" / "frame_00003.exr"),
         "-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    back = np.frombuffer(raw, "<f4").reshape(3, 128, 96).transpose(1, 2, 0)[..., [2, 0, 1]]
    np.testing.assert_allclose(back, FRAMES[3], rtol=2**-10)  # half float


def test_a_failed_exr_write_leaves_nothing(tmp_path: Path) -> None:
    def chunks():
        yield FRAMES[:2]
        raise RuntimeError("decode failed")

    with pytest.raises(RuntimeError, match="decode failed"):
        write_exr_frames(chunks(), tmp_path / "exr")
    assert list(tmp_path.iterdir()) == []


def test_existing_exr_folder_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "exr").mkdir()
    (tmp_path / "exr" / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="already exists"):
        write_exr_frames([FRAMES[:1]], tmp_path / "exr")
    assert [p.name for p in (tmp_path / "exr").iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(("size", "message"), [((65, 97), "must be even"), ((32, 48), "at least 64 px a side")])
def test_bad_frame_sizes_are_refused_and_nothing_is_left(tmp_path: Path, size, message: str) -> None:
    with pytest.raises(ValueError, match=message), HlgVideoWriter(tmp_path / "hlg.mp4", fps=24) as writer:
        writer.write(FRAMES[:1, : size[0], : size[1]])
    assert list(tmp_path.iterdir()) == []
