"""Hugging Face repos through huggingface_hub's own cache first, the hub only when the cache lacks something.

A repo already in the cache (``$HF_HUB_CACHE``, default ``$HF_HOME/hub``, default ``$XDG_CACHE_HOME/huggingface/hub``)
needs no network, so ``HF_HUB_OFFLINE=1`` or a dead network changes nothing for it. Every failure is one line that
tells apart a repo that is not cached while offline, a hub that cannot be reached, no such repo, and no such revision.
Model repos (ltx-convert, the CLI), Gemma repos (ltx-text) and LoRA repos (ltx-pipelines) all come through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class HubError(ValueError):
    """A repo, revision or file that cannot be had: one line with what to do. ``parameter`` names the argument at
    fault (e.g. ``revision``), so a command line can add its option."""

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


def offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) as huggingface_hub read it at import."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def cached_snapshot(repo: str, revision: str | None) -> Path | None:
    """The repo's snapshot folder at ``revision`` in the cache (possibly holding only some files), or None."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError as e:  # IncompleteSnapshotError carries the partial folder
        partial = getattr(e, "snapshot_path", None)
        return Path(partial) if partial else None


def snapshot_files(folder: Path) -> list[str]:
    """Repo paths of the files present in a snapshot folder (a symlink whose blob is missing is not present)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def list_files(repo: str, revision: str | None) -> list[str]:
    """The repo's files: those in the cache when it holds this revision, else the hub's listing."""
    folder = cached_snapshot(repo, revision)
    return snapshot_files(folder) if folder is not None else hub_files(repo, revision)


def hub_files(repo: str, revision: str | None) -> list[str]:
    """The hub's listing of the repo (refused at once when offline)."""
    from huggingface_hub import HfApi

    return _online(repo, revision, lambda: HfApi().list_repo_files(repo, revision=revision))


def download_file(repo: str, name: str, revision: str | None) -> Path:
    """One repo file: the cached copy, else downloaded into the cache."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo, name, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    return Path(_online(repo, revision, lambda: hf_hub_download(repo, name, revision=revision), name))


def download_snapshot(repo: str, revision: str | None, allow_patterns: Sequence[str] | None = None) -> Path:
    """The repo (a pre-converted model, a Gemma, a LoRA; only the files ``allow_patterns`` match): the complete
    cached snapshot, else downloaded."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = list(allow_patterns) if allow_patterns is not None else None
    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=patterns, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    return Path(_online(repo, revision, lambda: snapshot_download(repo, revision=revision, allow_patterns=patterns)))


def _online(repo: str, revision: str | None, call, name: str | None = None):
    if offline():
        raise HubError(not_cached(repo, revision, name, None))
    try:
        return call()
    except Exception as e:
        raise hub_error(repo, revision, e, name) from e


def cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def not_cached(repo: str, revision: str | None, name: str | None, error: Exception | None) -> str:
    """The line for a repo (or file) missing from the cache while the hub is off or out of reach."""
    what = f"{repo}/{name}" if name else repo
    at = f" at revision {revision}" if revision else ""
    get = f"hf download {repo}{f' {name}' if name else ''}{f' --revision {revision}' if revision else ''}"
    if error is None:
        why, fix = "HF_HUB_OFFLINE is set", "or unset HF_HUB_OFFLINE"
    else:
        why, fix = f"the Hugging Face hub is unreachable ({type(error).__name__})", "or check the network"
    return (
        f"{what}{at} is not in the Hugging Face cache ({cache_dir()}) and {why}: download it on a connected "
        f"machine with `{get}` (and copy the cache, or point HF_HOME at it), {fix}"
    )


def hub_error(repo: str, revision: str | None, error: Exception, name: str | None = None) -> HubError:
    """huggingface_hub's exception → one line saying which of: no such repo, revision or file; gated; offline."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(error, RevisionNotFoundError):
        message = f"{repo}: no revision {revision or 'main'!r} on the Hugging Face hub; pass a branch, tag or commit"
        return HubError(message, "revision")
    if isinstance(error, GatedRepoError):
        return HubError(f"{repo} is gated: accept its terms on huggingface.co, then `hf auth login`")
    if isinstance(error, RepositoryNotFoundError):
        return HubError(
            f"no such repo {repo} on the Hugging Face hub (if it is private, log in with `hf auth login`); "
            "check the repo id"
        )
    if isinstance(error, (LocalEntryNotFoundError, OfflineModeIsEnabled, ConnectionError, TimeoutError)):
        return HubError(not_cached(repo, revision, name, None if offline() else error))
    if isinstance(error, EntryNotFoundError):
        return HubError(f"{repo}: no file {name} at revision {revision or 'main'}; check the file name")
    if any(c.__name__ == "TransportError" for c in type(error).__mro__):  # httpx: no connection, DNS, timeout
        return HubError(not_cached(repo, revision, name, error))
    return HubError(f"{repo}: Hugging Face hub error ({type(error).__name__}: {_one_line(error)})")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]
