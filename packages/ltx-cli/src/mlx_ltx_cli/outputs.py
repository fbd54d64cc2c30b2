"""Every file `ltx generate` writes (the MP4, --output-audio's WAV, --save-frames' folder, --save-latents' file):
checked together before any work, claimed against concurrent writers, written apart and published together.

Each output is staged in ``.NAME.<pid>.partial/`` beside it (the same folder, so the last step is a rename) and
claimed with ``.NAME.lock`` (``mlx_ltx_core.output_claim``). ``publish()`` renames every staged output into place;
a failure (a full disk, Ctrl-C, SIGTERM) before or during it leaves none of them, and a killed run's staging
folders are removed by the next run writing the same outputs (only ours: they hold our marker, their process is
gone).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlx_ltx_cli.checks import check_writable
from mlx_ltx_core.folder_swap import PARTIAL, alive, leftovers, sibling
from mlx_ltx_core.output_claim import claimed
from mlx_ltx_core.signals import deferred

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # a full disk, a quota, a file-size limit
MARKER = ".mlx-ltx-generate.partial"  # written first into a staging folder: a later run knows it is ours


@dataclass(frozen=True)
class Output:
    path: Path
    option: str  # the CLI option that asked for it, for the error lines
    folder: bool = False  # --save-frames writes a folder


def check_outputs(outputs: list[Output], overwrite: bool) -> None:
    """Before any work: each output's folder exists and takes files, its name fits, and what is there may be
    replaced (only with --overwrite, only a file by a file, and a frames folder only when it holds our frames)."""
    from mlx_ltx_pipelines.frames_folder import check_frames_folder

    seen: dict[Path, str] = {}
    for out in outputs:
        resolved = out.path.absolute()
        if resolved in seen:
            raise ValueError(f"{out.option} {out.path}: is also the {seen[resolved]} output; choose another path")
        seen[resolved] = out.option
        check_writable(out.path, out.option)
        if out.folder:
            _as_option(check_frames_folder, out, overwrite)
        elif out.path.is_dir() and not out.path.is_symlink():
            raise ValueError(f"{out.option} {out.path}: is a folder; choose a file name")
        elif os.path.lexists(out.path) and not overwrite:
            raise ValueError(f"{out.option} {out.path}: already exists; pass --overwrite or choose another path")


def _as_option(check, out: Output, overwrite: bool) -> None:
    try:
        check(out.path, overwrite)
    except ValueError as e:
        text = str(e).replace("overwrite=True", "--overwrite")
        raise ValueError(f"{out.option} {text}") from None


class Staged:
    """The staging folders of a run; ``path(out)`` is where ``out`` is written before ``publish()``."""

    def __init__(self, outputs: list[Output], overwrite: bool) -> None:
        self.outputs, self.overwrite = outputs, overwrite
        self.folders: dict[Path, Path] = {}

    def path(self, out: Output) -> Path:
        return self.folders[out.path] / out.path.name

    def publish(self) -> None:
        """Rename every staged output into place (checked again: the folder may have changed meanwhile); when one
        fails, the ones already renamed are removed again."""
        from mlx_ltx_pipelines.frames_folder import publish_folder

        check_outputs(self.outputs, self.overwrite)
        done: list[Output] = []
        try:
            for out in self.outputs:
                staged = self.path(out)
                if out.folder:
                    publish_folder(staged, out.path, self.overwrite)
                else:
                    os.replace(staged, out.path)
                done.append(out)
        except BaseException:
            for out in done:
                shutil.rmtree(out.path) if out.folder else out.path.unlink(missing_ok=True)
            raise


@contextmanager
def staged_outputs(outputs: list[Output], overwrite: bool, command: str = "ltx generate") -> Iterator[Staged]:
    """Claim every output, clean dead runs' staging folders, check again, stage; on exit remove the staging folders
    (after ``publish()`` they are empty) and release the claims."""
    with claimed([o.path for o in outputs], command, [o.option for o in outputs]):
        for out in outputs:
            remove_dead_staging(out.path)
        check_outputs(outputs, overwrite)  # again, now that no other ltx writes them
        staged = Staged(outputs, overwrite)
        try:
            for out in outputs:
                with deferred():  # created and recorded together, so a signal never leaves an unknown folder
                    folder = sibling(out.path, os.getpid(), PARTIAL)
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                    staged.folders[out.path] = folder
                    (folder / MARKER).write_text(f"{out.path.name}\n")
            yield staged
        except OSError as e:
            if e.errno not in FULL:
                raise
            folders = ", ".join(sorted({str(o.path.absolute().parent) for o in outputs}))
            raise OSError(
                e.errno,
                f"{e.strerror} while writing the outputs (none was kept); free space or choose another folder",
                folders,
            ) from e
        finally:
            with deferred():
                for folder in staged.folders.values():
                    shutil.rmtree(folder, ignore_errors=True)


def remove_dead_staging(target: Path) -> None:
    """Remove the staging folders of ``target`` that a killed run left (ours: our marker, a dead process)."""
    for folder, pid in leftovers(target, PARTIAL):
        if not alive(pid) and not folder.is_symlink() and (folder / MARKER).is_file():
            shutil.rmtree(folder, ignore_errors=True)
