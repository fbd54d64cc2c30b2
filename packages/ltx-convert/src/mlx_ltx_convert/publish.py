"""Where a conversion may write and how it goes into place (docs/format.md, "Replacing a model folder").

``check_output`` refuses, before any work, an output that is not ours to replace: a file, a link, or a folder holding
anything ltx-convert did not write. ``recover`` finishes a dead run's swap and removes its leftovers (only folders
named ``.NAME.<pid>.*`` whose process is gone and that are provably ours). ``publish`` renames the finished partial
folder into place through ``mlx_ltx_core.folder_swap``'s journal, so a kill at any moment leaves the old model or
the new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_core.component_format import CONFIG_NAME, INDEX_NAME, MODEL_INDEX_NAME, ComponentError, read_json
from mlx_ltx_core.folder_swap import (
    OLD,
    PARTIAL,
    PARTIAL_MARKER,
    alive,
    finish_swaps,
    is_model_folder,
    leftovers,
    owned_partial,
    sibling,
    write_journal,
)

_ONLY = "overwrite replaces only a model folder written by ltx-convert or an empty folder"


def check_output(output: Path, overwrite: bool) -> None:
    """Refuse an output that is a link, a file, or a folder that is not ours to replace (ConversionError)."""
    if output.name in ("", ".."):
        raise ConversionError(f"output {str(output)!r}: not a folder name; pass the model folder to write", "output")
    if output.is_symlink():
        raise ConversionError(f"{output}: is a symbolic link; pass a folder path that is not a link", "output")
    if not output.exists():
        return
    if not output.is_dir():
        raise ConversionError(f"{output}: is a file, not a model folder; choose another output", "output")
    foreign = _foreign_entry(output)
    if foreign is not None:
        raise ConversionError(f"{output}: {foreign}; {_ONLY}: choose another output", "output")
    if not overwrite:
        raise ConversionError(f"{output}: already exists; pass overwrite=True to replace it", "overwrite")


def recover(output: Path) -> None:
    """Finish or roll back dead runs' swaps of ``output`` and delete their leftover folders (ours only)."""
    finish_swaps(output)
    for stale, pid in leftovers(output, PARTIAL):
        if not alive(pid) and owned_partial(stale):
            shutil.rmtree(stale)
    for stale, pid in leftovers(output, OLD):  # an .old without a journal: left by ltx-convert 0.2.0 and older
        if not alive(pid) and is_model_folder(stale):
            shutil.rmtree(stale)


def partial_dir(output: Path) -> Path:
    """A fresh hidden sibling ``.NAME.<pid>.partial`` holding our marker (so a later run knows it is ours)."""
    output.absolute().parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling(output, os.getpid(), PARTIAL)
    if os.path.lexists(tmp):
        if not owned_partial(tmp):
            raise ConversionError(f"{tmp}: exists and was not written by ltx-convert; move it away", "output")
        shutil.rmtree(tmp)
    tmp.mkdir()
    (tmp / PARTIAL_MARKER).write_text(f"{output.name}\n")
    return tmp


def publish(tmp: Path, output: Path) -> None:
    """Rename the complete ``tmp`` into place; an existing output (checked by ``check_output``) is swapped out under
    a journal and deleted after."""
    (tmp / PARTIAL_MARKER).unlink()
    if not os.path.lexists(output):
        os.replace(tmp, output)
        return
    check_output(output, overwrite=True)  # again: the folder may have changed while converting
    journal = write_journal(output)
    old = sibling(output, os.getpid(), OLD)
    try:
        os.replace(output, old)
        os.replace(tmp, output)
    except BaseException:
        if os.path.lexists(old) and not os.path.lexists(output):
            os.replace(old, output)  # roll back
        elif os.path.lexists(old):
            shutil.rmtree(old)  # the new folder is in place
        journal.unlink()
        raise
    shutil.rmtree(old)
    journal.unlink()


def _foreign_entry(folder: Path) -> str | None:
    """What in ``folder`` ltx-convert did not write, or None (empty, or exactly a model folder's files)."""
    entries = sorted(os.listdir(folder))
    if not entries:
        return None
    if not is_model_folder(folder):
        return f"not a model folder written by ltx-convert (it holds {entries[0]!r})"
    dirs, files = _expected(folder)
    for root, subdirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in sorted(subdirs) + sorted(names):
            path = (rel / name).as_posix()
            expected = dirs if name in subdirs else files
            if path not in expected or os.path.islink(Path(root) / name):
                return f"holds {path!r}, which ltx-convert did not write"
    return None


def _expected(folder: Path) -> tuple[set[str], set[str]]:
    """The folders and files a model folder's indexes account for."""
    dirs, files = set(), {MODEL_INDEX_NAME}
    for name in read_json(folder / MODEL_INDEX_NAME)["components"]:
        parts = Path(name).parts
        dirs |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
        files |= {f"{name}/{CONFIG_NAME}", f"{name}/{INDEX_NAME}"}
        with contextlib.suppress(ComponentError, LookupError, TypeError, AttributeError):  # unreadable index
            files |= {f"{name}/{shard}" for shard in read_json(folder / name / INDEX_NAME)["weight_map"].values()}
    return dirs, files
