"""`ltx generate --hosts` on two local ranks (mlx.launch, ring over loopback): rank 0 alone prints and writes the
MP4, the summary names each rank's peak memory; SIGKILL of one rank mid-run ends the other within 60 s with a
non-zero exit, one error line, and no MP4 or partial file."""

from __future__ import annotations

import json
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


def test_bad_hosts_and_backend_are_one_line_before_anything_runs(tmp_path, ltx_cache) -> None:
    for args, message in (
        (["--hosts", "mac1"], "name at least two hosts"),
        (["--hosts", "mac1,mac2", "--backend", "tcp"], "--backend tcp: choose one of ring, jaccl"),
        (["--hosts", "missing.json"], "no such hostfile"),
    ):
        done = run_ltx(["generate", "-p", "a fox", *args], ltx_cache, tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_rank_that_never_connects_is_one_line_after_the_timeout(tmp_path, ltx_cache) -> None:
    """Rank 0 of two, the other never started (an unreachable host): LTX_RANK_TIMEOUT bounds the wait."""
    from ranks import free_port_block

    port = free_port_block(2)
    hostfile = tmp_path.parent / f"{tmp_path.name}-hosts.json"
    hostfile.write_text(json.dumps([[f"127.0.0.1:{port}"], [f"127.0.0.1:{port + 1}"]]))
    env = {**ltx_env(ltx_cache), "MLX_RANK": "0", "MLX_HOSTFILE": str(hostfile), "LTX_RANK_TIMEOUT": "3"}
    exe = shutil.which("ltx")
    assert exe is not None
    start = time.monotonic()
    done = subprocess.run(
        [exe, "generate", "--model", "tiny", "-p", "a fox", "-o", "fox.mp4"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and time.monotonic() - start < 30
    assert done.stderr.strip().count("\n") == 0 and "not every rank connected within 3 s" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []
