"""The PNG frames folder (``save_frames``): checked before work, written apart, renamed into place.

A folder is replaced (``overwrite``) only when it is empty or holds nothing but ``frame_NNNNN.png`` files, the names
this writer uses; anything else in it (or a file or link at its path) is refused, so no user file is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from mlx_ltx_pipelines.errors import ParameterError

_FRAME = re.compile(r"frame_\d{5}\.png")


def frame_name(index: int) -> str:
    return f"frame_{index:05d}.png"


def check_frames_folder(folder: Path, overwrite: bool) -> None:
    """Refuse a frames folder path that holds anything but our frames, or frames without ``overwrite``."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ParameterError("folder", f"{folder}: exists and is not a frames folder; move it or choose another output")
    if not folder.exists():
        return
    entries = sorted(os.listdir(folder))
    foreign = [n for n in entries if not _FRAME.fullmatch(n) or (folder / n).is_symlink() or not (folder / n).is_file()]
    if foreign:
        raise ParameterError(
            "folder", f"{folder}: holds {foreign[0]!r}, which is not a frame PNG; move it or choose another output"
        )
    if entries and not overwrite:
        raise ParameterError("overwrite", f"{folder} already exists; pass overwrite=True or choose another output")


def partial_folder(folder: Path) -> Path:
    """A fresh hidden sibling to write the frames into."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".partial"))


def publish_folder(tmp: Path, folder: Path, overwrite: bool) -> None:
    """Rename ``tmp`` into place; an existing frames folder (checked again) is moved aside, then deleted."""
    check_frames_folder(folder, overwrite)
    if not folder.exists():
        os.replace(tmp, folder)
        return
    old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
    os.replace(folder, old)  # onto the empty placeholder
    os.replace(tmp, folder)
    shutil.rmtree(old)
