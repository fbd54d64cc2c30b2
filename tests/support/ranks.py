"""Run a script on N real ``mx.distributed`` ranks: ``mlx.launch`` with the ring backend over loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).parent


def free_port_block(count: int) -> int:
    """A starting port with ``count`` free ports after it (the ring backend listens on port + rank)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            start = s.getsockname()[1]
        if start + count < 65535 and all(_free(start + i) for i in range(count)):
            return start
    raise RuntimeError("no block of free loopback ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def launch(
    ranks: int, args: list[str], timeout: float = 300, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``mlx.launch --backend ring -n ranks`` of ``python args…`` on 127.0.0.1 → the CompletedProcess."""
    launcher = Path(sys.executable).with_name("mlx.launch")
    command = [str(launcher), "--backend", "ring", "--hosts", "127.0.0.1", "-n", str(ranks)]
    command += ["--starting-port", str(free_port_block(ranks)), "--", sys.executable, *args]
    path = os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")])
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, check=False)
