"""Replacing a model folder so that a kill at any moment leaves the old model or the new one (docs/format.md).

The writer builds the new folder as ``.NAME.<pid>.partial`` beside ``NAME``. To replace an existing ``NAME`` it first
writes a journal, ``.NAME.<pid>.swap.json`` (atomically), naming the two folders, then renames ``NAME`` →
``.NAME.<pid>.old``, the partial → ``NAME``, deletes the old folder and last the journal. ``finish_swaps(NAME)``
completes what a dead writer's journal describes; it only renames or deletes the folders the journal names, which
carry our names, and only when the journal's writer is no longer running. Pure file operations, no MLX.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from mlx_ltx_core.component_format import MODEL_INDEX_NAME

JOURNAL_FORMAT = "mlx-ltx-swap"
PARTIAL, OLD, JOURNAL, JOURNAL_TMP = "partial", "old", "swap.json", "swap.tmp"
# Written first into every partial folder, deleted before it is published: a partial holding it is ours.
PARTIAL_MARKER = ".mlx-ltx-convert.partial"


def sibling(target: Path, pid: int, kind: str) -> Path:
    """``.NAME.<pid>.<kind>`` beside ``target`` (kind: partial, old, swap.json, swap.tmp)."""
    return target.absolute().parent / f".{target.name}.{pid}.{kind}"


def leftovers(target: Path, kind: str) -> list[tuple[Path, int]]:
    """(path, pid) of every ``.NAME.<pid>.<kind>`` beside ``target``."""
    parent, head, tail = target.absolute().parent, f".{target.name}.", f".{kind}"
    if target.name in ("", "..") or not parent.is_dir():
        return []
    found = []
    for entry in sorted(os.listdir(parent)):
        pid = entry[len(head) : -len(tail)]
        if entry.startswith(head) and entry.endswith(tail) and pid.isdigit():
            found.append((parent / entry, int(pid)))
    return found


def alive(pid: int) -> bool:
    """Whether a process with this id runs (this process counts: its own swap is not a leftover)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_model_folder(path: Path) -> bool:
    """A real folder (not a link) whose ``model_index.json`` is ours: a JSON object with ``format_version`` and
    ``components``."""
    index = path / MODEL_INDEX_NAME
    if path.is_symlink() or not path.is_dir() or index.is_symlink() or not index.is_file():
        return False
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("format_version"), int)
        and isinstance(data.get("components"), dict)
    )


def write_journal(target: Path) -> Path:
    """Record (atomically, durably) that this process is about to replace ``target`` by its partial folder."""
    pid = os.getpid()
    entry = {"format": JOURNAL_FORMAT, "target": target.name, "pid": pid}
    entry |= {"old": sibling(target, pid, OLD).name, "new": sibling(target, pid, PARTIAL).name}
    tmp, journal = sibling(target, pid, JOURNAL_TMP), sibling(target, pid, JOURNAL)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, json.dumps(entry).encode())  # one small write: the file is empty or whole
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, journal)
    _sync_dir(journal.parent)
    return journal


def finish_swaps(target: str | os.PathLike) -> None:
    """Complete or roll back every interrupted replacement of ``target`` whose writer is dead, then drop its journal.

    The new folder goes into place when it is a complete model folder; otherwise the old one comes back.
    """
    target = Path(target)
    for journal, pid in leftovers(target, JOURNAL):
        entry = _read_journal(journal, target, pid)
        if entry is not None and not alive(pid):
            _settle(target, sibling(target, pid, OLD), sibling(target, pid, PARTIAL))
            journal.unlink()
    for tmp, pid in leftovers(target, JOURNAL_TMP):
        if not alive(pid) and (tmp.stat().st_size == 0 or _read_journal(tmp, target, pid) is not None):
            tmp.unlink()


def owned_partial(path: Path) -> bool:
    """A ``.NAME.<pid>.partial`` folder we wrote: it holds our marker, is a complete model folder, or is empty."""
    if path.is_symlink() or not path.is_dir():
        return False
    return (path / PARTIAL_MARKER).is_file() or is_model_folder(path) or _empty_folder(path)


def _settle(target: Path, old: Path, new: Path) -> None:
    exists = {p: os.path.lexists(p) for p in (target, old, new)}
    if exists[target] and exists[old] and exists[new]:
        return  # not a state a swap passes through: touch nothing
    if exists[new] and is_model_folder(new):
        if exists[target] and (is_model_folder(target) or _empty_folder(target)):
            os.replace(target, old)  # the swap had not begun: do it
            exists[old] = True
        if not os.path.lexists(target):
            os.replace(new, target)
            exists[new] = False
    if not os.path.lexists(target) and exists[old]:
        os.replace(old, target)  # roll back
        exists[old] = False
    for folder in (old, new):
        if exists[folder] and not folder.is_symlink():
            shutil.rmtree(folder)
    _sync_dir(target.absolute().parent)


def _empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not os.listdir(path)


def _read_journal(path: Path, target: Path, pid: int) -> dict[str, Any] | None:
    """The journal if it is ours and names exactly our folders for ``target`` (a foreign file is left alone)."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    want = {"format": JOURNAL_FORMAT, "target": target.name, "pid": pid}
    want |= {"old": sibling(target, pid, OLD).name, "new": sibling(target, pid, PARTIAL).name}
    return entry if entry == want else None


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
