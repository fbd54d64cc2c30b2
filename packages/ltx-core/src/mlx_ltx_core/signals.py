"""SIGTERM and SIGHUP handled as Ctrl-C is: raised in the main thread as ``Terminated``, a KeyboardInterrupt, so the
writers' cleanup (temporary files, partial folders, claims) runs and the command exits with 128 + the signal."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The process received ``signum`` (SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def handle_termination() -> None:
    """Turn SIGTERM and SIGHUP into ``Terminated`` (main thread only; elsewhere Python keeps the defaults)."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, _raise)


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal, as a shell reports a process the signal ended: 130 for Ctrl-C, 143 SIGTERM, 129 SIGHUP."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


def describe(interrupt: KeyboardInterrupt) -> str:
    return f"terminated ({interrupt})" if isinstance(interrupt, Terminated) else "interrupted"


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends (a file created and recorded for cleanup, or a cleanup,
    is then never cut in two); they are delivered right after it."""
    held = {signal.SIGINT, *HANDLED}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _raise(signum: int, _frame: object) -> None:
    for other in HANDLED:  # a second signal must not cut the cleanup short
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)
