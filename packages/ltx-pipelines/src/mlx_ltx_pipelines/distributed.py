"""Several processes as one generation (``mlx.launch``): the ranks' group, rank-0 output, lost ranks.

Every rank runs the same command: the transformer splits its video tokens over the ranks
(``mlx_ltx_core.model.transformer.sequence_parallel``), the video decoder deals its tiles, and rank 0 alone
prints and writes files. A rank that dies closes its sockets, and the others' next collective raises
(``RankLostError``); a rank that never connects is caught by a timeout (``LTX_RANK_TIMEOUT``, default 60 s).
"""

from __future__ import annotations

import os
import signal
import time
from functools import cache

import mlx.core as mx
import numpy as np

DEFAULT_RANK_TIMEOUT = 60.0  # seconds for every rank to connect
LAUNCH_VARIABLES = ("MLX_HOSTFILE", "MLX_RANK", "OMPI_COMM_WORLD_RANK", "MLX_JACCL_DEVICES", "MLX_IBV_DEVICES")


class RankLostError(RuntimeError):
    """Another rank stopped (died, or its host went away) while this one waited for it."""


def launched() -> bool:
    """Whether ``mlx.launch`` (or mpirun) started this process as one of several ranks."""
    return any(os.environ.get(name) for name in LAUNCH_VARIABLES)


@cache
def launch_group() -> mx.distributed.Group:
    """The ranks ``mlx.launch`` started (its environment names the backend); one rank when not launched.

    Connecting waits for every rank; if that takes longer than ``LTX_RANK_TIMEOUT`` seconds this process
    prints one line and is killed (a host that cannot be reached would otherwise hang every rank).
    """
    if not launched():
        return mx.distributed.init()
    timeout = rank_timeout()
    rank = os.environ.get("MLX_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK") or "?"
    message = (
        f"error: rank {rank}: not every rank connected within {timeout:g} s; check that each host is up, reachable "
        "and runs the same command (or raise LTX_RANK_TIMEOUT)\n"
    )
    watchdog = _watchdog(timeout, message)
    try:
        return mx.distributed.init(strict=True)
    finally:
        os.kill(watchdog, signal.SIGKILL)
        os.waitpid(watchdog, 0)


def rank_timeout() -> float:
    value = os.environ.get("LTX_RANK_TIMEOUT", str(DEFAULT_RANK_TIMEOUT))
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"LTX_RANK_TIMEOUT={value!r} must be a number of seconds (default 60)") from None


def _watchdog(timeout: float, message: str) -> int:
    """A child that prints ``message`` and kills this process after ``timeout`` s, unless killed first. A child,
    not a thread: the backend's connect holds the interpreter lock, so no thread of ours could run."""
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # only sleeps, writes and signals: safe after fork
        time.sleep(timeout)
        os.write(2, message.encode())
        os.kill(parent, signal.SIGKILL)
        os._exit(0)
    return child


def is_main(group: mx.distributed.Group | None = None) -> bool:
    """Rank 0 of ``group`` (default: the launch's), the one rank that prints and writes."""
    return (group or launch_group()).rank() == 0


def is_rank_lost(error: BaseException) -> bool:
    """Whether ``error`` is a backend's report that a peer went away (ring: "connection to a peer was lost")."""
    text = str(error)
    return isinstance(error, RuntimeError) and any(k in text for k in ("[ring]", "[jaccl]", "[mpi]", "peer"))


def stop_on_terminate() -> None:
    """SIGTERM (what ``mlx.launch`` sends the others when a rank fails) raises SystemExit(143), so the writers'
    cleanup runs and no partial file is left."""

    def handler(_signum, _frame) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, handler)


def gather_peaks(group: mx.distributed.Group) -> list[float]:
    """Every rank's peak memory in GB (``mx.get_peak_memory``), in rank order; a collective: all ranks call it."""
    peak = mx.array([mx.get_peak_memory() / 1e9], dtype=mx.float32)
    return np.array(mx.distributed.all_gather(peak, group=group)).astype(float).tolist()
