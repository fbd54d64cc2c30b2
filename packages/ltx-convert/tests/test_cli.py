"""The `ltx-convert` command: instant --help, convert as the default command, one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlx_ltx_convert.cli import app

from lightricks_files import golden_checkpoint

runner = CliRunner()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return golden_checkpoint(tmp_path_factory.mktemp("cli") / "ltx2_video_only.safetensors", "ltx2_video_only")


def test_help_works_without_importing_mlx() -> None:
    script = Path(sys.executable).with_name("ltx-convert")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "convert" in done.stdout and "verify" in done.stdout
    for option in ("--quantize", "--mixed", "--dtype", "--overwrite", "--max-shard-size", "--revision"):
        assert option in done.stdout, f"{option} missing from `ltx-convert --help`"  # the default command's options
    probe = "import sys; import mlx_ltx_convert; sys.exit('mlx.core' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_convert_is_the_default_command_and_verify_and_info_work(checkpoint, tmp_path) -> None:
    out = tmp_path / "model"
    result = runner.invoke(app, [str(checkpoint), "-o", str(out), "--quantize", "8", "--group-size", "32"])
    assert result.exit_code == 0, result.output
    assert "transformer" in result.stdout and "8-bit g32" in result.stdout
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 0 and result.stdout.strip() == "ok  transformer (1 shard)"
    result = runner.invoke(app, ["info", str(checkpoint)])
    assert result.exit_code == 0 and "checkpoint, 2.0.0, ltx-2" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{ckpt}", "-o", "{out}", "--quantize", "3"], "error: bits=3 is not supported; use 4 or 8 (--quantize)"),
        (["{ckpt}", "-o", "{exists}"], "already exists; pass overwrite=True to replace it (--overwrite)"),
        (["{tmp}/model.bin", "-o", "{out}"], r"pickle format (.bin) is not read"),
        (["{tmp}/nothing.safetensors", "-o", "{out}"], "nothing.safetensors: no such file"),
        (["verify", "{tmp}"], "no model_index.json or config.json"),
        (["{ckpt}", "-o", "{out}", "--max-shard-size", "5XB"], "--max-shard-size '5XB': use e.g. 5GiB"),
        (
            ["{ckpt}", "-o", "{out}", "--dtype", "int8"],
            "dtype='int8' is not supported; use keep, bfloat16, float16, float32 (--dtype)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], message: str, checkpoint, tmp_path) -> None:
    (tmp_path / "exists").mkdir()
    (tmp_path / "model.bin").write_bytes(b"\x80\x02.")
    names = {"ckpt": checkpoint, "out": tmp_path / "new", "exists": tmp_path / "exists", "tmp": tmp_path}
    result = runner.invoke(app, [a.format(**names) for a in args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "new").exists()


def test_mountable_as_ltx_convert(checkpoint, tmp_path) -> None:
    ltx = typer.Typer()
    ltx.add_typer(app, name="convert")

    @ltx.command()
    def generate() -> None:  # a second command, as in mlx-ltx-cli
        pass

    out = tmp_path / "model"
    result = runner.invoke(ltx, ["convert", str(checkpoint), "-o", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(ltx, ["convert", "verify", str(out)])
    assert result.exit_code == 0 and "ok  transformer" in result.stdout
