"""`ltx-convert -o OUT --overwrite` replaces only a model folder it wrote (or an empty folder), and a kill at any moment
leaves the old model or the new one; the next run or load finishes the swap and removes only the converter's files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlx_ltx_convert.cli import app
from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.verify import verify
from mlx_ltx_core.component_format import read_model_index
from mlx_ltx_core.folder_swap import PARTIAL_MARKER

from lightricks_files import golden_checkpoint

runner = CliRunner()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return golden_checkpoint(tmp_path_factory.mktemp("ow") / "ltx2_video_only.safetensors", "ltx2_video_only")


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root``, hidden ones included: file bytes, link targets, folders."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


def dead_pid() -> int:
    """The id of a process that has exited (so its leftovers count as dead)."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def convert_cli(args: list[str]):
    return runner.invoke(app, args)


# ---- refusals -------------------------------------------------------------------------------------------------


def _user_folder(tmp_path: Path, checkpoint: Path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "IMG_0001.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return photos


def _hidden_only(tmp_path: Path, checkpoint: Path) -> Path:
    folder = tmp_path / "dotfiles"
    folder.mkdir()
    (folder / ".config").write_text("x = 1\n")
    return folder


def _model_with_user_file(tmp_path: Path, checkpoint: Path) -> Path:
    model = convert([checkpoint], tmp_path / "model").output
    (model / "transformer" / "notes.txt").write_text("my notes")
    return model


def _model_with_link(tmp_path: Path, checkpoint: Path) -> Path:
    model = convert([checkpoint], tmp_path / "model").output
    (tmp_path / "elsewhere").mkdir()
    (model / "extra").symlink_to(tmp_path / "elsewhere")
    return model


def _fake_index(tmp_path: Path, checkpoint: Path) -> Path:
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")  # another tool's, or ours emptied: not provably a model
    return folder


def _file(tmp_path: Path, checkpoint: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_text("important")
    return path


def _link_to_model(tmp_path: Path, checkpoint: Path) -> Path:
    convert([checkpoint], tmp_path / "model")
    (tmp_path / "link").symlink_to(tmp_path / "model")
    return tmp_path / "link"


def _link_to_folder(tmp_path: Path, checkpoint: Path) -> Path:
    _user_folder(tmp_path, checkpoint)
    (tmp_path / "link").symlink_to(tmp_path / "photos")
    return tmp_path / "link"


def _dangling_link(tmp_path: Path, checkpoint: Path) -> Path:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    return tmp_path / "link"


REFUSED = [
    (_user_folder, "not a model folder written by ltx-convert (it holds 'IMG_0001.jpg')"),
    (_hidden_only, "not a model folder written by ltx-convert (it holds '.config')"),
    (_model_with_user_file, "holds 'transformer/notes.txt', which ltx-convert did not write"),
    (_model_with_link, "holds 'extra', which ltx-convert did not write"),
    (_fake_index, "not a model folder written by ltx-convert (it holds 'model_index.json')"),
    (_file, "is a file, not a model folder; choose another output"),
    (_link_to_model, "is a symbolic link"),
    (_link_to_folder, "is a symbolic link"),
    (_dangling_link, "is a symbolic link"),
]


@pytest.mark.parametrize("overwrite", [True, False])
@pytest.mark.parametrize(("make", "message"), REFUSED, ids=[m.__name__.strip("_") for m, _ in REFUSED])
def test_output_that_is_not_ours_is_refused_before_any_work_and_left_untouched(
    make, message, overwrite, checkpoint, tmp_path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    output = make(work, checkpoint)
    before = snapshot(tmp_path)
    result = convert_cli([str(checkpoint), "-o", str(output), *(["--overwrite"] if overwrite else [])])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {output}: "), result.output
    assert message in lines[0] and lines[0].endswith("(--output)"), lines[0]
    assert snapshot(tmp_path) == before


def test_empty_folder_and_model_folder_are_replaced(checkpoint, tmp_path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    assert convert_cli([str(checkpoint), "-o", str(out), "--overwrite"]).exit_code == 0
    assert read_model_index(out)["dtype"] == "keep"
    result = convert_cli([str(checkpoint), "-o", str(out), "--overwrite", "--dtype", "float16"])
    assert result.exit_code == 0, result.output
    assert read_model_index(out)["dtype"] == "float16" and verify(out) == [("transformer", 1)]
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_existing_model_without_overwrite_names_the_flag(checkpoint, tmp_path) -> None:
    out = convert([checkpoint], tmp_path / "model").output
    before = snapshot(tmp_path)
    result = convert_cli([str(checkpoint), "-o", str(out)])
    assert result.exit_code == 2 and result.output.strip().endswith("pass overwrite=True to replace it (--overwrite)")
    assert snapshot(tmp_path) == before


# ---- the swap's on-disk states, as a kill leaves them ----------------------------------------------------------


def _models(checkpoint: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An old model (dtype keep) and a new one (float16), written apart, to arrange into swap states."""
    old = convert([checkpoint], tmp_path / "old_model").output
    new = convert([checkpoint], tmp_path / "new_model", dtype="float16").output
    return old, new


def _journal(parent: Path, pid: int) -> None:
    entry = {"format": "mlx-ltx-swap", "target": "model", "pid": pid}
    entry |= {"old": f".model.{pid}.old", "new": f".model.{pid}.partial"}
    (parent / f".model.{pid}.swap.json").write_text(json.dumps(entry))


# state → where the old and the new model lie (None: absent); every state journaled unless noted
STATES = {
    "journal_written": ("model", ".partial"),  # killed before the first rename: the swap is done forward
    "between_renames": (".old", ".partial"),
    "after_renames": (".old", "model"),
    "old_half_deleted": (".old-half", "model"),
    "done_but_journal": (None, "model"),
    "rolled_back_partly": (".old", None),  # not a state of the sequence: the old model comes back
}


def _arrange(state: str, checkpoint: Path, tmp_path: Path) -> tuple[Path, int]:
    old, new = _models(checkpoint, tmp_path)
    root, pid = tmp_path / "root", dead_pid()
    root.mkdir()
    where_old, where_new = STATES[state]
    names = {"model": "model", ".partial": f".model.{pid}.partial", ".old": f".model.{pid}.old"}
    if where_old is not None:
        os.replace(old, root / names[where_old.removesuffix("-half")])
        if where_old.endswith("-half"):
            (root / names[".old"] / "model_index.json").unlink()  # rmtree got this far
    if where_new is not None:
        os.replace(new, root / names[where_new])
    _journal(root, pid)
    return root, pid


@pytest.mark.parametrize("recovery", ["next_run", "load", "verify"])
@pytest.mark.parametrize("state", list(STATES))
def test_interrupted_swap_is_finished_or_rolled_back(state, recovery, checkpoint, tmp_path) -> None:
    root, _ = _arrange(state, checkpoint, tmp_path)
    model = root / "model"
    if recovery == "next_run":
        bad = convert_cli([str(checkpoint), "-o", str(model), "--dtype", "float32"])  # recovers, then refuses
        assert bad.exit_code == 2 and "already exists" in bad.output
    elif recovery == "load":
        read_model_index(model)
    else:
        verify(model)
    expected = "keep" if state == "rolled_back_partly" else "float16"
    assert read_model_index(model)["dtype"] == expected
    assert verify(model) == [("transformer", 1)]
    assert sorted(os.listdir(root)) == ["model"]


def test_leftovers_not_provably_ours_are_kept(checkpoint, tmp_path) -> None:
    pid = dead_pid()
    convert([checkpoint], tmp_path / "model")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_text("a")
    foreign = tmp_path / f".model.{pid}.partial"  # our name, but no marker and no model index
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    (tmp_path / f".model.{pid}.old").mkdir()  # our name, not a model, no journal
    (tmp_path / f".model.{pid}.old" / "b.txt").write_text("b")
    bad = {"format": "mlx-ltx-swap", "target": "model", "pid": pid + 1, "old": "photos", "new": "photos"}
    (tmp_path / f".model.{pid + 1}.swap.json").write_text(json.dumps(bad))  # names folders that are not ours
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # the swap and partial of a process still running are not leftovers
        _journal(tmp_path, running.pid)
        (tmp_path / f".model.{running.pid}.partial").mkdir()
        (tmp_path / f".model.{running.pid}.partial" / PARTIAL_MARKER).write_text("model\n")
        before = snapshot(tmp_path)
        convert([checkpoint], tmp_path / "model", overwrite=True, dtype="float16")
        read_model_index(tmp_path / "model")
        after = snapshot(tmp_path)
    finally:
        running.kill()
        running.wait()
    assert {k: v for k, v in after.items() if not k.startswith("model")} == {
        k: v for k, v in before.items() if not k.startswith("model")
    }
    assert read_model_index(tmp_path / "model")["dtype"] == "float16"


def test_stale_partials_of_dead_runs_are_removed_by_the_next_run(checkpoint, tmp_path) -> None:
    pids = [dead_pid() for _ in range(3)]
    marked, empty, complete = (tmp_path / f".model.{p}.partial" for p in pids)
    marked.mkdir()
    (marked / PARTIAL_MARKER).write_text("model\n")
    (marked / "transformer").mkdir()
    (marked / "transformer" / "model-00001-of-00003.safetensors").write_bytes(b"\0" * 10)
    empty.mkdir()  # killed between mkdir and the marker
    os.replace(convert([checkpoint], tmp_path / "elsewhere").output, complete)  # killed just before the rename
    (tmp_path / f".model.{pids[0]}.swap.tmp").write_bytes(b"")  # killed while writing a journal
    convert([checkpoint], tmp_path / "model")
    assert sorted(os.listdir(tmp_path)) == ["model"]


# ---- kill -9 at random moments ------------------------------------------------------------------------------

# Converts once elsewhere (to import all that the command imports lazily), then waits for a line on stdin, so that
# the parent times its kill from the start of the conversion itself (the command line's code: mlx_ltx_convert.cli.app).
_DRIVER = """
import contextlib, io, sys, tempfile, time
from mlx_ltx_convert.cli import app
with tempfile.TemporaryDirectory() as warm, contextlib.redirect_stdout(io.StringIO()):
    try:
        app([sys.argv[1], "-o", f"{warm}/model"], prog_name="ltx-convert")
    except SystemExit:
        pass
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
try:
    app(sys.argv[1:], prog_name="ltx-convert")
except SystemExit as e:
    print(f"done {time.perf_counter() - start:.6f} {e.code}", flush=True)
"""


def _run_killed(args: list[str], delay: float | None) -> float | None:
    """Run the converter; SIGKILL it ``delay`` seconds into the conversion. Returns the duration when it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    if delay is not None:
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    if proc.returncode == -signal.SIGKILL:
        return None
    last = out.strip().splitlines()[-1].split()
    assert proc.returncode == 0 and last[0] == "done" and last[2] == "0", out
    return float(last[1])


def test_kill_9_during_overwrite_leaves_old_or_new_model(checkpoint, tmp_path) -> None:
    model, rng = tmp_path / "model", random.Random(15)
    dtypes = ["keep", "float16"]
    args = [str(checkpoint), "-o", str(model), "--overwrite", "--max-shard-size", "40000"]
    convert([checkpoint], model)
    duration = min(_run_killed([*args, "--dtype", "float16"], None) or 0 for _ in range(3))
    current, kills, delays, seen = "float16", 0, [], []
    for trial in range(60):
        if kills >= 22:
            break
        new = dtypes[trial % 2]
        # Every other moment falls in the last quarter of the run, where the swap happens.
        delays.append(rng.uniform(0, duration) if trial % 2 else rng.uniform(0.75 * duration, 1.1 * duration))
        finished = _run_killed([*args, "--dtype", new], delays[-1]) is not None
        kills += not finished
        seen.append(tuple(sorted(n.split(".")[-1] for n in os.listdir(tmp_path))))  # the state the kill left
        # A load (verify reads through read_model_index's recovery) sees the old model or the new one, complete.
        assert [name for name, _ in verify(model)] == ["transformer"], trial
        dtype = read_model_index(model)["dtype"]
        assert dtype in {current, new}, trial
        assert not finished or dtype == new
        current = dtype
        left = set(os.listdir(tmp_path)) - {"model", ".model.lock"}  # the claim's lock file: freed by the kill
        assert all(name.startswith(".model.") and name.endswith(".partial") for name in left), left
    assert kills >= 20, (duration, delays, Counter(seen))
    # The next run removes what the killed ones left behind.
    assert _run_killed([*args, "--dtype", "float32"], None) is not None
    assert sorted(os.listdir(tmp_path)) == ["model"] and read_model_index(model)["dtype"] == "float32"


def test_a_swap_onto_an_empty_folder_is_finished_by_a_load(checkpoint, tmp_path) -> None:
    pid = dead_pid()
    (tmp_path / "model").mkdir()
    os.replace(convert([checkpoint], tmp_path / "new", dtype="float16").output, tmp_path / f".model.{pid}.partial")
    _journal(tmp_path, pid)
    assert read_model_index(tmp_path / "model")["dtype"] == "float16"
    assert sorted(os.listdir(tmp_path)) == ["model"]


@pytest.mark.parametrize("output", ["", ".", ".."])
def test_output_must_name_a_folder(output, checkpoint, tmp_path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("keep")
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    result = convert_cli([str(checkpoint), "-o", output, "--overwrite"])
    # "" is refused by the command line itself (Path("") would be the current folder), "." / ".." by convert().
    named = "--output '': give the model folder" if output == "" else "not a folder name"
    assert result.exit_code == 2 and named in result.output and "--output" in result.output
    assert result.output.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_a_file_added_while_converting_stops_the_replacement(checkpoint, tmp_path) -> None:
    out = convert([checkpoint], tmp_path / "model").output

    def add_file(_n: int) -> None:
        (out / "added-meanwhile.txt").write_text("mine")

    with pytest.raises(ConversionError, match=r"holds 'added-meanwhile.txt', which ltx-convert did not write"):
        convert([checkpoint], out, overwrite=True, dtype="float16", progress=add_file)
    assert sorted(os.listdir(tmp_path)) == ["model"] and (out / "added-meanwhile.txt").read_text() == "mine"
    assert read_model_index(out)["dtype"] == "keep"
