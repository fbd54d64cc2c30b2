"""`ltx generate` from a Hugging Face cache with HF_HUB_OFFLINE=1: a converted tiny model and its Gemma as cached
repos (real layout: refs, snapshots as symlinks into blobs) make an MP4 with no network; an absent repo is one line,
fast; a repo checkpoint file (OWNER/NAME/FILE.safetensors) converts from the cache; LTX_CACHE follows XDG_CACHE_HOME."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import constants, scan_cache_dir

from cli_testing import ltx_env, probe
from hf_cache import COMMIT, folder_files, local_hub, write_hf_cache
from lightricks_files import golden_checkpoint

MODEL_REPO = "tiny-org/LTX-2.3-tiny-mlx"
GEMMA_REPO = "tiny-org/gemma-tiny"
PROMPT = ["-p", "a red fox runs through snow", "-H", "128", "-W", "192", "-n", "9"]


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory, tiny: tuple[Path, Path]) -> Path:
    home = tmp_path_factory.mktemp("hf-home")
    write_hf_cache(home / "hub", MODEL_REPO, folder_files(tiny[0]))
    write_hf_cache(home / "hub", GEMMA_REPO, folder_files(tiny[1]))
    return home


def _ltx(
    args: list[str], hf_home: Path, cache: Path, cwd: Path, endpoint: str = "http://127.0.0.1:9"
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in ltx_env(cache).items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    exe = shutil.which("ltx")
    assert exe is not None, "the ltx console script is not installed"
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_cache_is_huggingface_hubs_layout(hf_home: Path, tiny: tuple[Path, Path]) -> None:
    repos = {r.repo_id: r for r in scan_cache_dir(hf_home / "hub").repos}
    assert set(repos) == {MODEL_REPO, GEMMA_REPO}
    (revision,) = repos[MODEL_REPO].revisions
    assert revision.commit_hash == COMMIT and set(revision.refs) == {"main"}
    assert len(revision.files) == len(folder_files(tiny[0]))
    assert all(f.file_path.is_symlink() and f.blob_path.is_file() for f in revision.files)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")
def test_generate_from_cached_repos_offline(hf_home: Path, ltx_cache: Path, tmp_path: Path) -> None:
    args = ["generate", "--model-repo", MODEL_REPO, "--text-encoder-repo", GEMMA_REPO, *PROMPT, "-o", "out.mp4"]
    done = _ltx(args, hf_home, ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    streams = probe(tmp_path / "out.mp4")["streams"]
    video = next(s for s in streams if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"], int(video["nb_read_frames"])) == ("h264", 192, 128, 9)
    assert [s["codec_name"] for s in streams if s["codec_type"] == "audio"] == ["aac"]
    done = _ltx([*args[:-1], "pinned.mp4", "--revision", COMMIT], hf_home, ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_absent_repo_offline_is_one_line_at_once(hf_home: Path, ltx_cache: Path, tmp_path: Path) -> None:
    """At once means no network: the hub (a local server recording requests) is never asked, so no retries."""
    for flag in ("--model-repo", "--model"):
        with local_hub() as (endpoint, requests):
            done = _ltx(["generate", flag, "nobody/absent", *PROMPT], hf_home, ltx_cache, tmp_path, endpoint)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr
        assert lines[0].startswith("error: nobody/absent is not in the Hugging Face cache (")
        assert "HF_HUB_OFFLINE is set" in lines[0] and "`hf download nobody/absent`" in lines[0]
        assert requests == []
        assert not (tmp_path / "output.mp4").exists()
    done = _ltx(["generate", "--model-repo", MODEL_REPO, "--revision", "v9", *PROMPT], hf_home, ltx_cache, tmp_path)
    assert done.returncode == 2 and "at revision v9 is not in the Hugging Face cache" in done.stderr
    done = _ltx(["generate", "--model-repo", MODEL_REPO, "--quantize", "8", *PROMPT], hf_home, ltx_cache, tmp_path)
    assert done.returncode == 2 and f"{MODEL_REPO} is a converted model: convert its checkpoint" in done.stderr


def test_a_repo_checkpoint_file_converts_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ltx_cache: Path
) -> None:
    from mlx_ltx_cli.resolve import resolve_model

    name = "ltx-2-19b-distilled.safetensors"
    ckpt = golden_checkpoint(tmp_path / name, "ltx2_video_only")
    write_hf_cache(tmp_path / "hub", "Lightricks/LTX-Tiny", {name: ckpt})
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("LTX_CACHE", str(tmp_path / "ltx"))
    for option in ("model", "checkpoint_path"):
        source = {option: f"Lightricks/LTX-Tiny/{name}"}
        resolved = resolve_model(
            source.get("model"), source.get("checkpoint_path"), None, None, None, None, "distilled", revision=COMMIT
        )
        assert (resolved.folder / "model_index.json").is_file()
        assert resolved.folder.parent == tmp_path / "ltx" / "converted"


def test_ltx_cache_defaults_under_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlx_ltx_cli.resolve import cache_root

    monkeypatch.delenv("LTX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "mlx-ltx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path.home() / ".cache" / "mlx-ltx"
    monkeypatch.setenv("LTX_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


@pytest.mark.parametrize("flag", ["--text-encoder-repo", "--lora-path"])
def test_an_absent_gemma_or_lora_repo_offline_is_the_same_one_line(
    flag: str, hf_home: Path, ltx_cache: Path, tmp_path: Path
) -> None:
    """Gemma and LoRA repos come through the same cache-first path as model repos: one line, no request, exit 2."""
    args = ["generate", "--model-repo", MODEL_REPO, flag, "nobody/absent", *PROMPT]
    if flag == "--lora-path":
        args += ["--text-encoder-repo", GEMMA_REPO]
    with local_hub() as (endpoint, requests):
        done = _ltx(args, hf_home, ltx_cache, tmp_path, endpoint)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "nobody/absent is not in the Hugging Face cache (" in lines[0] and "HF_HUB_OFFLINE is set" in lines[0]
    assert requests == []
    assert not list(tmp_path.iterdir())
