"""Repo ids through the Hugging Face cache: a cached repo needs no network (HF_HUB_OFFLINE=1 or a dead hub), and each
failure says which it is: not cached while offline, no such repo, no such revision."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import constants, scan_cache_dir
from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.hub import HubRequest, resolve
from mlx_ltx_core.hub_cache import HubError, hub_error, hub_files

from hf_cache import COMMIT, local_hub, write_hf_cache
from lightricks_files import golden_checkpoint

REPO = "Lightricks/LTX-Tiny"
CHECKPOINT = "ltx-2-19b-distilled.safetensors"
DEAD_HUB = "http://127.0.0.1:9"  # nothing listens there: a refused connection, never the internet


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HF_HOME with REPO at main: a Lightricks-format checkpoint and a README."""
    home = tmp_path_factory.mktemp("hf-home")
    ckpt = golden_checkpoint(home / "source.safetensors", "ltx2_video_only")
    write_hf_cache(home / "hub", REPO, {CHECKPOINT: ckpt, "README.md": b"# tiny\n"})
    ckpt.unlink()
    return home


@pytest.fixture
def offline_cache(hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub reads its environment at import: set what HF_HOME=hf_home HF_HUB_OFFLINE=1 would."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "ENDPOINT", DEAD_HUB)
    return hf_home / "hub"


def _ltx_convert(args: list[str], hf_home: Path, cwd: Path, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    script = Path(sys.executable).with_name("ltx-convert")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "LTX_DEBUG"))}
    environ.update({"HF_HOME": str(hf_home), "HF_ENDPOINT": DEAD_HUB, **env})
    start = time.monotonic()
    done = subprocess.run([str(script), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)
    return done, time.monotonic() - start


def test_the_cache_is_laid_out_as_huggingface_hub_writes_it(hf_home: Path) -> None:
    info = scan_cache_dir(hf_home / "hub")
    assert info.warnings == []
    (repo,) = info.repos
    (revision,) = repo.revisions
    assert (repo.repo_id, repo.repo_type, revision.commit_hash, set(revision.refs)) == (REPO, "model", COMMIT, {"main"})
    assert sorted(f.file_name for f in revision.files) == ["README.md", CHECKPOINT]


def test_a_cached_repo_resolves_offline(offline_cache: Path) -> None:
    snapshot = offline_cache / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    for revision in (None, "main", COMMIT):
        paths, origins = resolve([REPO], HubRequest("distilled"), revision)
        assert paths == [snapshot / CHECKPOINT]
        assert origins == {CHECKPOINT: f"hf://{REPO}/{CHECKPOINT}@{revision or 'main'}"}
    paths, _ = resolve([f"{REPO}/{CHECKPOINT}"], HubRequest())
    assert paths == [snapshot / CHECKPOINT] and paths[0].is_file()


def test_what_the_cache_lacks_offline_is_one_line_naming_the_cache(offline_cache: Path) -> None:
    with pytest.raises(HubError) as absent:
        resolve(["nobody/absent"], HubRequest())
    message = str(absent.value)
    assert message.startswith("nobody/absent is not in the Hugging Face cache (")
    assert str(offline_cache) in message and "HF_HUB_OFFLINE is set" in message
    assert "`hf download nobody/absent`" in message
    with pytest.raises(HubError, match=r"at revision v2 is not in the Hugging Face cache.*--revision v2"):
        resolve([REPO], HubRequest(), "v2")
    with pytest.raises(HubError, match=rf"{REPO}/other\.safetensors is not in the Hugging Face cache"):
        resolve([f"{REPO}/other.safetensors"], HubRequest())
    with pytest.raises(ConversionError, match=r"no dev checkpoint among .*\(in the Hugging Face cache .*OFFLINE"):
        resolve([REPO], HubRequest("dev"))


def test_ltx_convert_a_cached_repo_offline_and_with_the_hub_down(hf_home: Path, tmp_path: Path) -> None:
    done, _ = _ltx_convert([REPO, "-o", "offline"], hf_home, tmp_path, HF_HUB_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "offline" / "model_index.json").is_file()
    done, _ = _ltx_convert([REPO, "-o", "hub-down"], hf_home, tmp_path)  # online, but the hub refuses connections
    assert done.returncode == 0, done.stderr
    assert "Retrying" not in done.stderr
    assert (tmp_path / "hub-down" / "model_index.json").is_file()


def test_ltx_convert_an_absent_repo_offline_fails_fast_in_one_line(hf_home: Path, tmp_path: Path) -> None:
    """Fast means no network: the hub (a local server recording requests) is never asked, so no retries."""
    with local_hub() as (endpoint, requests):
        args = ["nobody/absent", "-o", "out"]
        done, _ = _ltx_convert(args, hf_home, tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "nobody/absent is not in the Hugging Face cache" in lines[0] and "HF_HUB_OFFLINE is set" in lines[0]
    assert requests == []
    assert not (tmp_path / "out").exists()


@pytest.fixture
def hub_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with local_hub() as (endpoint, _):
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        yield


def test_no_such_repo_and_no_such_revision_from_the_hubs_answers(hub_answers) -> None:
    with pytest.raises(HubError, match=r"^no such repo nobody/absent on the Hugging Face hub"):
        hub_files("nobody/absent", None)
    with pytest.raises(HubError, match=r"^owner/repo: no revision 'missing-branch' on the Hugging Face hub"):
        hub_files("owner/repo", "missing-branch")


def test_ltx_convert_names_the_revision_option(hub_answers, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlx_ltx_convert.cli import app

    result = CliRunner().invoke(app, ["owner/repo", "-o", str(tmp_path / "out"), "--revision", "missing-branch"])
    assert result.exit_code == 2
    assert "no revision 'missing-branch' on the Hugging Face hub" in result.output and "(--revision)" in result.output


def test_offline_errors_of_huggingface_hub_map_to_the_cache_line(offline_cache: Path) -> None:
    for error in (LocalEntryNotFoundError("not cached"), OfflineModeIsEnabled("offline")):
        message = str(hub_error("o/n", None, error))
        assert message.startswith("o/n is not in the Hugging Face cache") and "HF_HUB_OFFLINE is set" in message


def test_a_refused_connection_maps_to_the_unreachable_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.utils import get_session

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(Exception, match=r"[Cc]onnect") as refused:  # the HTTP client's ConnectError, no retries
        get_session().get(DEAD_HUB)
    message = str(hub_error("o/n", "v1", refused.value))
    assert message.startswith("o/n at revision v1 is not in the Hugging Face cache (")
    assert "the Hugging Face hub is unreachable (ConnectError)" in message and "check the network" in message
