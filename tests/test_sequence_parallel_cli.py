"""`ltx generate --hosts` on two local ranks (mlx.launch, ring over loopback): rank 0 alone prints and writes the
MP4, the summary names each rank's peak memory; SIGKILL of one rank mid-run ends the other within 60 s with a
non-zero exit, one error line, and no MP4 or partial file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from cli_testing import ltx_env, probe, run_ltx

ARGS = ["--model", "tiny", "-p", "a fox", "-H", "128", "-W", "320", "-n", "9", "--hosts", "127.0.0.1,127.0.0.1"]


def test_two_ranks_rank_0_writes_one_mp4(tmp_path, tiny, ltx_cache) -> None:
    done = run_ltx(["generate", *ARGS, "-o", "fox.mp4"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("wrote ") == 1 and "rank peaks: " in done.stdout, done.stdout
    video = next(s for s in probe(tmp_path / "fox.mp4")["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fox.mp4"]


def test_killing_one_rank_ends_every_rank_and_writes_nothing(tmp_path, tiny, ltx_cache) -> None:
    exe = shutil.which("ltx")
    assert exe is not None
    command = [exe, "generate", *ARGS[:-4], "-H", "256", "-W", "384", "-n", "33", *ARGS[-2:], "-o", "fox.mp4"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=ltx_env(ltx_cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:  # rank 0's first stage line: the ranks are connected and generating
        if line.startswith("text:"):
            break
    victim = _rank_pid(1, str(tmp_path / "fox.mp4").rsplit("/", 1)[0])
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - killed < 60
    assert process.returncode != 0
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())  # no MP4, no partial file


def _rank_pid(rank: int, cwd: str) -> int:
    """The pid of the `ltx generate` rank ``rank`` running in ``cwd`` (from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes()
            here = os.readlink(entry / "cwd")
        except OSError:
            continue
        if f"MLX_RANK={rank}".encode() in environ and b"generate" in cmdline and here == cwd:
            return int(entry.name)
    raise AssertionError(f"no rank {rank} process in {cwd}")
