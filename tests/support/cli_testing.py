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


def run_ltx(args: list[str], cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`ltx ARGS` in a subprocess (the installed console script)."""
    exe = shutil.which("ltx")
    assert exe is not None, "the ltx console script is not installed"
    return subprocess.run(
        [exe, *map(str, args)], cwd=cwd, env=ltx_env(cache), capture_output=True, text=True, timeout=600
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
