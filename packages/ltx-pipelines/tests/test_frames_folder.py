"""`save_frames` writes its folder apart and renames it into place; it replaces (overwrite) only a folder of its own
frames and never touches a user file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.frames_folder import check_frames_folder
from mlx_ltx_pipelines.result import GenerationResult


class _Frames(GenerationResult):
    """A result whose decoded video is given (no model)."""

    def __init__(self, count: int, fail_after: int | None = None):
        self.count, self.fail_after = count, fail_after

    def video_chunks(self, progress=None) -> Iterator[np.ndarray]:
        for i in range(self.count):
            if self.fail_after is not None and i == self.fail_after:
                raise KeyboardInterrupt
            yield np.full((1, 4, 6, 3), i, np.uint8)


def _listing(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            out[str(path.relative_to(root))] = "dir" if path.is_dir() else path.read_bytes()
    return out


def test_frames_are_written_and_replaced_only_with_overwrite(tmp_path) -> None:
    folder = tmp_path / "out_frames"
    paths = _Frames(3).save_frames(folder)
    assert [p.name for p in paths] == ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    with pytest.raises(ParameterError, match="already exists; pass overwrite=True") as e:
        _Frames(2).save_frames(folder)
    assert e.value.parameter == "overwrite"
    _Frames(2).save_frames(folder, overwrite=True)  # no stale frame 2 mixed into the new set
    assert sorted(os.listdir(folder)) == ["frame_00000.png", "frame_00001.png"]
    assert sorted(os.listdir(tmp_path)) == ["out_frames"]


@pytest.mark.parametrize("kind", ["user_file", "hidden_file", "subfolder", "file", "link"])
def test_a_folder_that_is_not_ours_is_refused_and_untouched(kind, tmp_path) -> None:
    folder = tmp_path / "out_frames"
    if kind == "file":
        folder.write_text("mine")
    elif kind == "link":
        (tmp_path / "elsewhere").mkdir()
        folder.symlink_to(tmp_path / "elsewhere")
    else:
        folder.mkdir()
        (folder / "frame_00000.png").write_bytes(b"my own png")
        name = {"user_file": "holiday.jpg", "hidden_file": ".notes", "subfolder": "frame_00001.png"}[kind]
        (folder / name).mkdir() if kind == "subfolder" else (folder / name).write_text("keep")
    before = _listing(tmp_path)
    with pytest.raises(ParameterError, match=r"out_frames: (holds|exists and is not)"):
        check_frames_folder(folder, overwrite=True)
    with pytest.raises(ParameterError):
        _Frames(2).save_frames(folder, overwrite=True)
    assert _listing(tmp_path) == before


def test_an_interrupted_write_leaves_the_old_frames_and_nothing_else(tmp_path) -> None:
    folder = tmp_path / "out_frames"
    _Frames(2).save_frames(folder)
    before = _listing(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _Frames(5, fail_after=3).save_frames(folder, overwrite=True)
    assert _listing(tmp_path) == before
