"""The one Hugging Face repo-id parser every package uses (convert's hub, the CLI, LoRA and Gemma loading)."""

from __future__ import annotations

import pytest

from mlx_ltx_core.repo_id import RepoId, parse_repo_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lightricks/LTX-2.3", RepoId("Lightricks/LTX-2.3", None)),
        ("google/gemma-3-12b-it", RepoId("google/gemma-3-12b-it", None)),
        ("hf://Lightricks/LTX-2/ltx-2-19b-dev.safetensors", RepoId("Lightricks/LTX-2", "ltx-2-19b-dev.safetensors")),
        ("o/n/loras/cam.safetensors", RepoId("o/n", "loras/cam.safetensors")),
        ("hf://ckpts/ltx.safetensors", RepoId("ckpts/ltx.safetensors", None)),
    ],
)
def test_repo_ids(text: str, expected: RepoId) -> None:
    assert parse_repo_id(text) == expected


@pytest.mark.parametrize("text", ["missing-model", "./a/b", "../a/b", "/abs/path", "a/ b", "-a/b", "a/.b", ""])
def test_not_repo_ids(text: str) -> None:
    assert parse_repo_id(text) is None
