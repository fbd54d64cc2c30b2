"""Claiming an output path so that two writers (two `ltx generate`, two `ltx convert`) never write the same file.

A claim is ``.NAME.lock`` beside ``NAME``, held with an exclusive ``flock`` for the writer's lifetime: the kernel
drops the lock when the process ends, however it ends, so a file left by a killed writer is free for the next one,
which removes it on release. The lock file names its holder (pid and command) for the other writer's error line.
Pure file operations, no MLX.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from mlx_ltx_core.signals import deferred

LOCK = "lock"


class ClaimError(ValueError):
    """Another process holds the claim of ``path``; the message names the path and that process."""

    def __init__(self, path: Path, holder: str, option: str = "") -> None:
        where = f"{option} {path}" if option else str(path)
        super().__init__(
            f"{where}: another process is writing it ({holder}); wait for it to finish or choose another path"
        )
        self.path = path


def lock_path(target: Path) -> Path:
    return target.absolute().parent / f".{target.name}.{LOCK}"


class Claim:
    """An exclusive claim of ``target``; ``release()`` (or the end of the process) frees it."""

    def __init__(self, target: str | os.PathLike, command: str, option: str = "") -> None:
        self.target, self.path = Path(target), lock_path(Path(target))
        self._fd: int | None = None
        while self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "pid unknown"
                os.close(fd)
                raise ClaimError(self.target, holder, option) from None
            # The holder before us may have unlinked the file between our open and our lock: retry on the new one.
            if _same_file(fd, self.path):
                self._fd = fd
            else:
                os.close(fd)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()}, {command}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # while still locked: a waiting writer then sees another file and retries
            os.close(self._fd)
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    there = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


@contextlib.contextmanager
def claimed(targets: Sequence[str | os.PathLike], command: str, options: Sequence[str] = ()) -> Iterator[None]:
    """Claim every target (``options[i]`` names the CLI option of ``targets[i]`` in the error), release on exit."""
    claims: list[Claim] = []
    try:
        for i, target in enumerate(targets):
            with deferred():  # a signal between creating the lock file and recording it would leave the file
                claims.append(Claim(target, command, options[i] if i < len(options) else ""))
        yield
    finally:
        with deferred():
            for claim in reversed(claims):
                claim.release()
