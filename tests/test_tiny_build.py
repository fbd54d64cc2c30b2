"""The tiny model's build deletes only what it wrote: its scratch folders, and those of builds that died; a folder
in its place that it did not write is refused, not replaced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlx_ltx_cli.tiny import tiny_model


def _root(cache: Path) -> Path:
    from mlx_ltx_cli import __version__
    from mlx_ltx_cli.tiny import cache_key

    return cache / f"tiny-{cache_key(__version__)}"


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_tiny_build_leaves_only_its_folders_and_cleans_dead_builds(tmp_path) -> None:
    root, pid = _root(tmp_path), _dead_pid()
    (root / f".source.{pid}.partial").mkdir(parents=True)  # a build killed while writing its checkpoint
    (root / f".source.{pid}.partial" / "ltx-2.3-tiny-random.safetensors").write_bytes(b"half")
    (root / "notes.txt").write_text("mine")  # not the build's
    model, gemma = tiny_model(tmp_path)
    assert sorted(os.listdir(root)) == ["gemma", "model", "notes.txt"]
    assert (model / "model_index.json").is_file() and (gemma / "model.safetensors").is_file()
    assert (root / "notes.txt").read_text() == "mine"
    assert tiny_model(tmp_path) == (model, gemma)  # built once


def test_a_user_folder_where_the_model_goes_is_refused(tmp_path) -> None:
    model = _root(tmp_path) / "model"
    model.mkdir(parents=True)
    (model / "photo.jpg").write_bytes(b"jpeg")
    with pytest.raises(ValueError, match=r"model: not a model folder written by ltx-convert"):
        tiny_model(tmp_path)
    assert os.listdir(model) == ["photo.jpg"] and sorted(os.listdir(model.parent)) == ["model"]
