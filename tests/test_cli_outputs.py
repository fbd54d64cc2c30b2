"""Every output of `ltx generate` (MP4, --output-audio WAV, --save-frames folder, --save-latents file) is checked
before any work and published together: a run that fails, a full disk included, leaves none of them (issue 15
item 4). The folder is compared before and after, hidden files included."""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from cli_testing import ltx_env, run_ltx, snapshot

TINY = ["generate", "--model", "tiny", "-p", "a test", "-H", "64", "-W", "64", "-o", "out.mp4"]
ALL = ["--save-frames", "--save-latents", "--output-audio", "out.wav"]

# (id, extra arguments, files made first (name → bytes; None: a folder), a fragment of the one error line)
CASES = [
    ("wav-folder-missing", ["--output-audio", "nowhere/a.wav"], {}, "--output-audio nowhere/a.wav: folder nowhere"),
    ("wav-exists", ["--output-audio", "a.wav"], {"a.wav": b"mine"}, "--output-audio a.wav: already exists"),
    ("wav-is-a-folder", ["--output-audio", "a.wav"], {"a.wav": None}, "--output-audio a.wav: is a folder"),
    ("wav-read-only", ["--output-audio", "/proc/sys/a.wav"], {}, "--output-audio /proc/sys/a.wav: folder"),
    ("wav-name-too-long", ["--output-audio", "w" * 250 + ".wav"], {}, "choose a shorter name"),
    (
        "latents-exist",
        ["--save-latents"],
        {"out.latents.safetensors": b"mine"},
        "--save-latents out.latents.safetensors: already exists",
    ),
    ("latents-are-a-folder", ["--save-latents"], {"out.latents.safetensors": None}, "is a folder"),
    ("frames-a-file", ["--save-frames"], {"out_frames": b"mine"}, "--save-frames out_frames: exists and is not"),
    ("mp4-exists-with-others", ALL, {"out.mp4": b"mine"}, "out.mp4 already exists; pass --overwrite"),
]


@pytest.mark.parametrize(("extra", "made", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_outputs_are_checked_before_any_work(extra, made, fragment, tiny, ltx_cache, tmp_path) -> None:
    for name, content in made.items():
        (tmp_path / name).mkdir() if content is None else (tmp_path / name).write_bytes(content)
    before = snapshot(tmp_path)
    result = run_ltx([*TINY, *extra], ltx_cache, tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert snapshot(tmp_path) == before, "a refused run must leave the folder as it was"
    for name, content in made.items():
        assert content is None or (tmp_path / name).read_bytes() == content


def test_overwrite_replaces_every_output_and_leaves_nothing_else(tiny, ltx_cache, tmp_path) -> None:
    (tmp_path / "out.wav").write_bytes(b"old")
    result = run_ltx([*TINY, *ALL, "--overwrite"], ltx_cache, tmp_path)
    assert result.returncode == 0, result.stderr[-1500:]
    frames = [f"out_frames/frame_{i:05d}.png" for i in range(9)]
    assert sorted(snapshot(tmp_path)) == sorted(
        ["out.mp4", "out.wav", "out.latents.safetensors", "out_frames", *frames]
    )
    assert (tmp_path / "out.wav").read_bytes()[:4] == b"RIFF"


def _mount_tmpfs(folder: Path, size: str) -> list[str]:
    """A tmpfs of ``size`` at ``folder``: mounted here as root, else the prefix that runs a command inside a user
    namespace where it is mounted; skips where neither works."""
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]).returncode == 0:
            return []
    elif shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs {folder} && exec "$0" "$@"']
    pytest.skip("no tmpfs can be mounted here (not root, no user namespaces)")


@pytest.mark.parametrize("size", ["48k", "96k"], ids=["nothing-fits", "the-mp4-fits-the-wav-does-not"])
def test_a_full_disk_leaves_no_output(size, tiny, ltx_cache, tmp_path) -> None:
    disk = tmp_path / "disk"
    prefix = _mount_tmpfs(disk, size)
    try:
        script = f"ls -A {disk} >{tmp_path}/before; ltx {shlex.join([*TINY, *ALL])}; echo $? >{tmp_path}/rc; "
        script += f"ls -A {disk} >{tmp_path}/after"
        command = [*prefix, "sh", "-c", script] if prefix else ["sh", "-c", script]
        done = subprocess.run(command, cwd=disk, env=ltx_env(ltx_cache), capture_output=True, text=True, timeout=300)
    finally:
        if not prefix:
            subprocess.run(["umount", str(disk)], check=True)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert (tmp_path / "rc").read_text().strip() == "2", done.stderr[-1500:]
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
    assert "no space left on device while writing the outputs (none was kept)" in lines[0], lines[0]
    assert str(disk) in lines[0]
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text() == ""


def test_a_file_size_limit_during_convert_leaves_no_folder(tmp_path, ltx_cache) -> None:
    """A write refused mid-conversion (RLIMIT_FSIZE: the shards exceed 1 MB; Python ignores SIGXFSZ, so the write
    fails with EFBIG as a full disk fails with ENOSPC) removes the partial folder and the claim: one line, exit 2."""
    from mlx_ltx_cli.tiny import write_tiny_files

    ckpt, *_, gemma = write_tiny_files(tmp_path / "ckpt")
    work = tmp_path / "work"
    work.mkdir()
    limit = 1_000_000

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    exe = shutil.which("ltx")
    assert exe is not None
    done = subprocess.run(
        [exe, "convert", str(ckpt), "-o", "model", "--text-encoder-path", str(gemma)],
        cwd=work,
        env=ltx_env(ltx_cache),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith(("convert", " "))]
    assert done.returncode == 2, done.stderr[-1500:]
    assert "Traceback" not in done.stderr
    assert lines[-1].startswith("error: ") and "file too large" in lines[-1], done.stderr
    assert snapshot(work) == {}
