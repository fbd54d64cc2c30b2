"""A Hugging Face cache written as huggingface_hub lays it out, for tests that must never reach the network.

``HUB/models--OWNER--NAME/refs/REF`` holds the commit (no newline); ``snapshots/COMMIT/PATH`` are relative symlinks to
``blobs/ETAG``, the etag of an LFS file being its sha256. ``scan_cache_dir`` reads it back (the tests check that).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@contextlib.contextmanager
def local_hub() -> Iterator[tuple[str, list[str]]]:
    """(endpoint, requests): a local server answering as huggingface.co does for a missing repo or revision (404
    with its X-Error-Code) and recording every path asked, so a test can prove that no request was made."""
    requests: list[str] = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            code = "RevisionNotFound" if "/tree/missing-branch" in self.path else "RepoNotFound"
            self.send_response(404)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def write_hf_cache(
    hub: Path, repo: str, files: dict[str, Path | bytes], commit: str = COMMIT, ref: str = "main"
) -> Path:
    """Put ``files`` (repo path → a file to copy, or bytes) in the cache at ``hub``; returns the snapshot folder."""
    storage = hub / f"models--{repo.replace('/', '--')}"
    snapshot = storage / "snapshots" / commit
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        blob = storage / "blobs" / _etag(content)
        if isinstance(content, Path):
            shutil.copyfile(content, blob)
        else:
            blob.write_bytes(content)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (storage / "refs").mkdir(exist_ok=True)
    (storage / "refs" / ref).write_text(commit)
    return snapshot


def folder_files(folder: Path) -> dict[str, Path | bytes]:
    """Every file under ``folder`` by its repo path (a converted model folder as a repo)."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _etag(content: Path | bytes) -> str:
    digest = hashlib.sha256()
    if isinstance(content, Path):
        with content.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    else:
        digest.update(content)
    return digest.hexdigest()
