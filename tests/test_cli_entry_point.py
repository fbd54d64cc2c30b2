"""The `ltx` entry point: -v / LTX_DEBUG tracebacks with the right exit code, a closed stdout, internal errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_testing import ltx_env

BAD = ["generate", "-p", "x", "-n", "30", "-o", "out.mp4"]


@pytest.mark.parametrize("how", ["-v", "--verbose", "LTX_DEBUG=1"])
def test_debugging_prints_the_traceback_and_keeps_exit_2(how: str, ltx_cache: Path, tmp_path: Path) -> None:
    args = [*BAD, how] if how.startswith("-") else BAD
    env = dict(ltx_env(ltx_cache), **({"LTX_DEBUG": "1"} if "=" in how else {}))
    exe = shutil.which("ltx")
    assert exe is not None
    result = subprocess.run([exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("Traceback") == 1, result.stderr  # the real one, not a second from the entry point
    assert "ValueError: num_frames=30 must be 8k+1" in result.stderr
    assert "AttributeError" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: num_frames=30")


def _with_closed_stdout(args: list[str], cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`ltx ARGS` writing into a pipe whose reader is already gone (as `ltx ... | head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [shutil.which("ltx") or "ltx", *args],
            cwd=cwd,
            env=ltx_env(cache),
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["version"], ["convert", "--help"]])
def test_a_closed_stdout_exits_quietly(args: list[str], ltx_cache: Path, tmp_path: Path) -> None:
    result = _with_closed_stdout(args, ltx_cache, tmp_path)
    assert result.stderr == ""
    assert result.returncode == 141  # 128 + SIGPIPE, as the shell reports for `yes | head -1`


def test_ltx_info_into_a_closed_pipe_exits_quietly(tiny, ltx_cache: Path, tmp_path: Path) -> None:
    result = _with_closed_stdout(["info", str(tiny[0])], ltx_cache, tmp_path)
    assert result.stderr == ""
    assert result.returncode == 141
    piped = subprocess.run(
        ["bash", "-c", f"set +o pipefail; '{shutil.which('ltx')}' info '{tiny[0]}' | head -1"],
        env=ltx_env(ltx_cache),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert piped.stderr == "" and piped.returncode == 0
    assert len(piped.stdout.splitlines()) == 1


# A bug in a command: the real entry point with one function replaced by one that fails as a bug would.
_BUG = """
import sys
import mlx_ltx_cli.info
module = sys.modules["mlx_ltx_cli.info"]
def broken(folder, verify):
    raise KeyError("components")
module.print_info = broken
from mlx_ltx_cli.app import main
sys.argv = ["ltx", "info", sys.argv[1]]
main()
"""


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_is_one_line_saying_it_is_a_bug(debug: bool, tiny, ltx_cache: Path, tmp_path) -> None:
    env = dict(ltx_env(ltx_cache), **({"LTX_DEBUG": "1"} if debug else {}))
    result = subprocess.run(
        [sys.executable, "-c", _BUG, str(tiny[0])], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: internal error (KeyError: 'components')"), result.stderr
    assert "this is a bug" in lines[-1]
    if debug:
        assert result.stderr.count("Traceback") == 1 and "see the traceback above" in lines[-1]
    else:
        assert len(lines) == 1 and "LTX_DEBUG=1" in lines[0]


_ESCAPING = """
import errno, sys
import mlx_ltx_convert.convert
module = sys.modules["mlx_ltx_convert.convert"]  # the package's lazy `convert` attribute is the function
def too_long(sources):
    raise OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300)
module.plan = too_long
from mlx_ltx_cli.app import main
sys.argv = ["ltx", "convert", "info", "a.safetensors"]
main()
"""


def test_an_error_escaping_a_command_without_handlers_is_one_line(ltx_cache: Path, tmp_path: Path) -> None:
    """`ltx convert` handles only ValueErrors; an OSError of the machine escaping it is one line, exit 2."""
    result = subprocess.run(
        [sys.executable, "-c", _ESCAPING], cwd=tmp_path, env=ltx_env(ltx_cache), capture_output=True, text=True
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert lines == [f"error: {'x' * 300}: file name too long"], result.stderr
