"""Integrity: verify catches a flipped byte; an interrupted or killed conversion leaves no folder that loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.verify import verify
from mlx_ltx_core.loader import ComponentError, read_component
from mlx_ltx_core.model.transformer import load_transformer

from lightricks_files import golden_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory):
    return golden_checkpoint(tmp_path_factory.mktemp("i") / "ltx23_av.safetensors", "ltx23_av", model_version="2.3.0")


def test_verify_passes_then_catches_one_flipped_byte(checkpoint, tmp_path) -> None:
    out = convert([checkpoint], tmp_path / "out", max_shard_bytes=200_000).output
    assert verify(out) == [("transformer", 3)]
    assert verify(out / "transformer") == [("transformer", 3)]
    shard = out / "transformer" / "model-00002-of-00003.safetensors"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(ConversionError, match=r"model-00002-of-00003\.safetensors: sha256 mismatch"):
        verify(out)
    shard.write_bytes(bytes(data[:-10]))
    with pytest.raises(ConversionError, match="truncated or replaced"):
        verify(out)
    with pytest.raises(ConversionError, match=r"no model_index\.json or config\.json"):
        verify(tmp_path)


def test_interrupted_conversion_leaves_nothing(checkpoint, tmp_path) -> None:
    calls = []

    def interrupt(n: int) -> None:
        calls.append(n)
        if len(calls) == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert([checkpoint], tmp_path / "out", max_shard_bytes=100_000, progress=interrupt)
    assert sorted(os.listdir(tmp_path)) == []


_KILL = """
import os, signal, sys, threading, time
from pathlib import Path
from mlx_ltx_convert.convert import convert

def watch(parent):  # SIGKILL (no cleanup possible) once the third shard file appears
    while len(list(parent.glob(".out.*.partial/transformer/model-*"))) < 3:
        time.sleep(0.0005)
    os.kill(os.getpid(), signal.SIGKILL)

threading.Thread(target=watch, args=(Path(sys.argv[2]).parent,), daemon=True).start()
convert([sys.argv[1]], sys.argv[2], max_shard_bytes=40_000)
"""


def test_killed_conversion_leaves_no_folder_that_loads(checkpoint, tmp_path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", _KILL, str(checkpoint), str(out)], capture_output=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert not out.exists()
    (partial,) = tmp_path.glob(".out.*.partial")
    shards = sorted((partial / "transformer").glob("model-*.safetensors"))
    assert len(shards) >= 2, "killed after some shards were written"
    with pytest.raises(ComponentError, match="missing; this is not a converted component folder"):
        load_transformer(partial / "transformer")
    # The next conversion cleans up after the dead one and publishes a complete folder.
    convert([checkpoint], out)
    assert not list(tmp_path.glob(".out.*"))
    assert read_component(out / "transformer").info["model_version"] == "2.3.0"


def test_existing_output_is_kept_unless_overwrite(checkpoint, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ConversionError, match=r"out: already exists; pass overwrite=True to replace it"):
        convert([checkpoint], out)
    convert([checkpoint], out, overwrite=True)  # an empty folder may be replaced
    assert (out / "model_index.json").exists()
    (out / "mine.txt").write_text("keep me")  # a user file in a model folder: no longer ours to replace
    with pytest.raises(ConversionError, match=r"out: holds 'mine.txt', which ltx-convert did not write"):
        convert([checkpoint], out, overwrite=True)
    assert (out / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_disk_space_is_checked_before_writing(checkpoint, tmp_path, monkeypatch) -> None:
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=1000))
    with pytest.raises(ConversionError, match=r"the conversion writes 0\.1 GB but 0\.0 GB are free"):
        convert([checkpoint], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    np.testing.assert_equal(len(list(tmp_path.iterdir())), 0)
