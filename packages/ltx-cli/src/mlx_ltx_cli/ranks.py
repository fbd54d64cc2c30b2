"""`ltx generate` on several Macs: `--hosts a,b` runs the same command on each through `mlx.launch`; inside a
launched rank, rank 0 alone prints and writes, and a lost rank is one line and a non-zero exit on every rank."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlx_ltx_cli.errors import fail

BACKENDS = ("ring", "jaccl", "jaccl-ring", "mpi")
LOCAL = ("127.0.0.1", "localhost")
# mlx.launch's own report of a rank that failed; it exits 0 whatever its ranks did, so the wrapper reads these.
LOST = "another rank stopped"
_NODE_FAILED = re.compile(r"Node with rank (\d+) (exited with code (-?\d+)|was killed)")


def connect() -> Any:
    """The launch's group when this process is one of several ranks (connecting first, before anything loads,
    so an unreachable host fails fast), else None."""
    from mlx_ltx_pipelines.distributed import launch_group, launched, stop_on_terminate

    if not launched():
        return None
    group = launch_group()
    if group.size() == 1:
        return None
    stop_on_terminate()
    return group


@contextlib.contextmanager
def rank_errors(group: Any) -> Iterator[None]:
    """A backend error about a lost peer → one line, exit 1 (not the "internal error" of a bug)."""
    from mlx_ltx_pipelines.distributed import is_rank_lost

    try:
        yield
    except RuntimeError as e:
        if group is None or not is_rank_lost(e):
            raise
        raise fail(
            f"{LOST} ({str(e).strip()}); nothing was written: check that every host is up, then run again", 1
        ) from None


def drain(result: Any) -> None:
    """A rank other than 0 takes part in the distributed decode and writes nothing (a result decoded by its
    pipeline, or sound alone, has nothing left to take part in)."""
    for _ in getattr(result, "video_chunks", lambda: ())():
        pass


def rank_peaks(group: Any) -> dict[str, str]:
    """The summary's per-rank peak memory (a collective: every rank calls it)."""
    from mlx_ltx_pipelines.distributed import gather_peaks

    if group is None:
        return {}
    return {"rank peaks": ", ".join(f"{p:.2f}" for p in gather_peaks(group)) + " GB"}


def launch_hosts(hosts: str, backend: str, argv: list[str], command_name: str = "generate") -> int:
    """Run ``ltx COMMAND_NAME`` (``argv`` without --hosts/--backend) on every host through ``mlx.launch``.

    Output of every rank streams through (rank 0 alone prints progress); a failed rank → one ``error:`` line
    and exit 1. All-local hosts get a free block of ports, so several local runs do not collide.
    """
    if backend not in BACKENDS:
        raise fail(f"--backend {backend}: choose one of {', '.join(BACKENDS)}")
    names = [h.strip() for h in hosts.split(",") if h.strip()]
    hostfile = Path(hosts).suffix == ".json"
    if hostfile and not Path(hosts).is_file():
        raise fail(f"--hosts {hosts}: no such hostfile; pass a comma-separated list of hosts or an mlx.launch JSON")
    if not hostfile and len(names) < 2:
        raise fail(f"--hosts {hosts}: name at least two hosts, comma-separated (e.g. --hosts mac1,mac2)")
    launcher = Path(sys.executable).with_name("mlx.launch")
    command = [str(launcher), "--backend", backend, *(["--hostfile", hosts] if hostfile else ["--hosts", hosts])]
    if not hostfile and all(n in LOCAL for n in names) and backend == "ring":
        command += ["--starting-port", str(_free_ports(len(names)))]
    command += ["--", str(Path(sys.executable).with_name("ltx")), command_name, *argv]
    return _run_launcher(command)


def without_launch_options(args: list[str]) -> list[str]:
    """``args`` less --hosts/--backend and their values (the ranks run the rest)."""
    out, skip = [], False
    for token in args:
        if skip:
            skip = False
        elif token in ("--hosts", "--backend"):
            skip = True
        elif not token.startswith(("--hosts=", "--backend=")):
            out.append(token)
    return out


def _run_launcher(command: list[str]) -> int:
    """mlx.launch with its stderr filtered to one ``error:`` line: a rank's own error (printed once, however many
    ranks print it), else which rank failed (its death is what the others' "another rank stopped" reports)."""
    failed: list[tuple[str, str]] = []  # (rank, exit code or "killed")
    printed: set[str] = set()
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace") as process:
        assert process.stderr is not None
        for line in process.stderr:
            match = _NODE_FAILED.search(line)
            if match:
                failed.append((match.group(1), match.group(3) or "killed"))
            elif not line.startswith("error:"):
                sys.stderr.write(line)
            elif LOST not in line and line not in printed:
                printed.add(line)
                sys.stderr.write(line)
            sys.stderr.flush()
    if not failed and process.returncode == 0:
        return 0
    if not printed:
        # The first rank that did not exit by mlx.launch's SIGTERM (-15) is the one that failed.
        rank, code = next((f for f in failed if f[1] not in ("-15", "killed")), failed[0] if failed else ("?", "?"))
        how = "was killed" if code in ("-9", "killed") else f"exited with code {code}"
        sys.stderr.write(f"error: rank {rank} {how}, so every rank stopped; nothing was written\n")
    return 1


def _free_ports(count: int) -> int:
    import socket

    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            start = s.getsockname()[1]
        if start + count < 65535 and all(_port_free(start + i) for i in range(count)):
            return start
    return 32323  # mlx.launch's default


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
