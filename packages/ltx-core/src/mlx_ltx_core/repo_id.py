"""Hugging Face repo ids, parsed in one place: ``[hf://]owner/name[/path/in/repo]``.

Owner and name are word characters, ``.`` and ``-`` and do not start with ``.`` or ``-`` (so ``./x`` and
``../x`` are paths, never repo ids). Pure: nothing is downloaded here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_PART = r"\w[\w.-]*"
_REPO_ID = re.compile(rf"(?:hf://)?(?P<repo>{_PART}/{_PART})(?:/(?P<file>[^\s]+))?")


class RepoId(NamedTuple):
    """``repo`` is ``owner/name``; ``file`` the path inside the repo, or None for the whole repo."""

    repo: str
    file: str | None


def parse_repo_id(text: str) -> RepoId | None:
    """``"Lightricks/LTX-2.3"`` → ``RepoId("Lightricks/LTX-2.3", None)``; ``"hf://o/n/a/b.safetensors"`` →
    ``RepoId("o/n", "a/b.safetensors")``; None when ``text`` is not of that form (e.g. a relative path ``./x``)."""
    match = _REPO_ID.fullmatch(text)
    return None if match is None else RepoId(match["repo"], match["file"])
