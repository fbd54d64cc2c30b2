"""Run the installed `ltx` command in a subprocess and inspect what it wrote (ffprobe)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path


def ltx_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, LTX_CACHE=str(cache), PYTHONUNBUFFERED="1")
    env.pop("LTX_DEBUG", None)
    return env


def run_ltx(args: list[str], cache: Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """`ltx ARGS` in a subprocess (the installed console script)."""
    exe = shutil.which("ltx")
    assert exe is not None, "the ltx console script is not installed"
    return subprocess.run(
        [exe, *map(str, args)], cwd=cwd, env=ltx_env(cache), capture_output=True, text=True, timeout=timeout
    )


def probe(path: Path) -> dict:
    """ffprobe's view of a file: streams (with counted frames) and format."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def start_ltx(args: list[str], cache: Path, cwd: Path, **kwargs) -> subprocess.Popen:
    """`ltx ARGS` started in a subprocess (stdout and stderr piped as text) for tests that signal or race it."""
    exe = shutil.which("ltx")
    assert exe is not None, "the ltx console script is not installed"
    return subprocess.Popen(
        [exe, *map(str, args)],
        cwd=cwd,
        env=ltx_env(cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def snapshot(folder: Path) -> dict[str, int | None]:
    """Every path under ``folder`` (hidden ones too) → its size (None for a folder), to compare before and after."""
    found: dict[str, int | None] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            found[str(path.relative_to(folder))] = None if path.is_dir() else path.lstat().st_size
    return found
