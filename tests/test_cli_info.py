"""`ltx info`: a checkpoint file is read from its header only (nothing converted or written); `--verify` checks every
component and marks each bad one in the table instead of stopping at the first."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_testing import run_ltx
from lightricks_files import golden_checkpoint


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_info_of_a_checkpoint_reads_its_header_and_writes_nothing(tmp_path: Path) -> None:
    checkpoint = golden_checkpoint(tmp_path / "ltx-2-tiny.safetensors", "ltx2_video_only")
    cache = tmp_path / "cache"
    cache.mkdir()
    before = _tree(tmp_path)
    result = run_ltx(["info", checkpoint], cache, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "transformer" in result.stdout and "ltx-2" in result.stdout
    assert _tree(tmp_path) == before  # no conversion into the cache, no file beside the checkpoint


def _flip_a_byte(shard: Path) -> None:
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))


def test_verify_marks_every_bad_component(tiny, ltx_cache: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny[0], model)
    for name in ("transformer", "video_decoder"):
        _flip_a_byte(next((model / name).glob("*.safetensors")))
    result = run_ltx(["info", model, "--verify"], ltx_cache, tmp_path)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert sum("BAD" in line for line in lines) == 2 and sum("sha256 ok" in line for line in lines) == 9  # of 11
    bad = sorted(line for line in lines if line.startswith("bad "))
    assert [line.split(":")[0] for line in bad] == ["bad transformer", "bad video_decoder"]
    assert all("sha256 mismatch (corrupted file)" in line for line in bad)
    assert (
        result.stderr.count("\n") == 1
        and "2 of its components failed" in result.stderr
        and "sha256 mismatch" in result.stderr
    )
