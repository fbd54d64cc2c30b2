"""The reference's ``.pt`` datasets through the restricted unpickler (tests/data/reference_pt: written by the
reference venv's torch with tools/parity/trainer_pt_fixtures.py) — and pickles that must be refused unrun."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mlx_ltx_trainer.data import PrecomputedDataset
from mlx_ltx_trainer.pt_import import UnsafePickleError, convert_dataset, load_pt

DATA = Path(__file__).parent / "data" / "reference_pt"


def test_reference_files_load_exactly() -> None:
    expected = np.load(DATA / "expected.npz")
    for key in expected.files:
        rel, name = key.split(":")
        loaded = load_pt(DATA / rel)
        assert loaded[name].dtype == expected[key].dtype and loaded[name].shape == expected[key].shape, key
        np.testing.assert_array_equal(loaded[name], expected[key])
    latents = load_pt(DATA / "latents" / "clip.pt")
    assert (latents["num_frames"], latents["height"], latents["width"], latents["fps"]) == (2, 2, 3, 24.0)
    assert "torch" not in sys.modules


def test_converted_dataset_reads_as_ours(tmp_path: Path) -> None:
    written = convert_dataset(DATA, tmp_path / "data")
    assert len(written) == 4
    ds = PrecomputedDataset(tmp_path / "data", {"latents": "video_latents", "conditions": "conditions"})
    sample = ds.sample(0)
    assert sample["video_latents"]["latents"].shape == (2, 2, 3, 8)  # MLX layout [F, H, W, C]
    assert sample["video_latents"]["fps"] == 24.0
    with pytest.raises(ValueError, match="exists"):
        convert_dataset(DATA, tmp_path / "data")


def _pt_with_pickle(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", payload)
        z.writestr("evil/byteorder", "little")
    return path


class _System:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_the_pickle_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = _pt_with_pickle(tmp_path / "evil.pt", pickle.dumps({"latents": _System(marker)}, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"refused (os|posix)\.system"):
        load_pt(path)
    assert not marker.exists()
    # the same pickle in a dataset: nothing written, one clear error
    src = tmp_path / "src" / "latents"
    src.mkdir(parents=True)
    shutil.copy(path, src / "a.pt")
    with pytest.raises(UnsafePickleError):
        convert_dataset(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not marker.exists()


def test_other_globals_and_persistent_ids_are_refused(tmp_path: Path) -> None:
    # builtins.eval through GLOBAL + REDUCE
    payload = b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R."
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        load_pt(_pt_with_pickle(tmp_path / "a.pt", payload))
    # a persistent id that is not a storage
    payload = b"\x80\x02X\x03\x00\x00\x00abcQ."
    with pytest.raises(UnsafePickleError, match="persistent id"):
        load_pt(_pt_with_pickle(tmp_path / "b.pt", payload))
    (tmp_path / "c.pt").write_bytes(pickle.dumps({}))
    with pytest.raises(ValueError, match="not a torch zip"):
        load_pt(tmp_path / "c.pt")
