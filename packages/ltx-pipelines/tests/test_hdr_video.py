"""EXR frames on real files: ffmpeg decodes them back to the written values (half precision), they carry the
chromaticities / colorSpace the reference writes, and a failed write leaves nothing behind."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mlx_ltx_pipelines.hdr import Primaries
from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe
from mlx_ltx_pipelines.media.hdr_video import exr_attributes, write_exr_frames

RNG = np.random.default_rng(0)
FRAMES = np.exp(RNG.uniform(np.log(0.01), np.log(8.0), (5, 64, 96, 3))).astype(np.float32)


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
    back = np.frombuffer(raw, "<f4").reshape(3, 64, 96).transpose(1, 2, 0)[..., [2, 0, 1]]
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
