"""`ltx generate` and `ltx convert` under faults, with real subprocesses (issue 15 items 5 and 6, and the acceptance
test): two writers of one output (the second fails naming the path and the first), two first builds of the tiny
model (both succeed), SIGTERM / SIGHUP (cleaned up like Ctrl-C, exit 128 + signal), and SIGKILL at 20 seeded
random moments (no partial output; what a killed run leaves, the next run removes)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import time
from pathlib import Path

import pytest

from cli_testing import probe, snapshot, start_ltx

TINY = ["generate", "--model", "tiny", "-p", "a test", "-H", "64", "-W", "64", "-o", "out.mp4", "-q"]
ALL = ["--save-frames", "--save-latents", "--output-audio", "out.wav"]
OUTPUTS = {"out.mp4", "out.wav", "out.latents.safetensors", "out_frames"}


def _wait_for(condition, proc, timeout: float = 120.0) -> bool:
    """Poll ``condition()`` every 2 ms until it holds (True) or the process ends (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    raise TimeoutError("the process neither reached the moment nor ended")


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


# ---- concurrent writers ----------------------------------------------------------------------------------------


def test_a_second_generate_to_the_same_output_fails_naming_the_first(tiny, ltx_cache, tmp_path) -> None:
    first = start_ltx([*TINY, *ALL], ltx_cache, tmp_path)
    assert _wait_for(lambda: (tmp_path / ".out.mp4.lock").exists(), first)
    second = start_ltx([*TINY, "--output-audio", "other.wav"], ltx_cache, tmp_path)
    _, err = second.communicate(timeout=120)
    lines = _error_lines(err)
    assert second.returncode == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: --output-path out.mp4: another process is writing it"), lines[0]
    assert f"pid {first.pid}, ltx generate" in lines[0]
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert {n for n in os.listdir(tmp_path)} == OUTPUTS  # the loser left nothing, the winner no lock


def test_a_second_convert_to_the_same_folder_fails_naming_the_first(ltx_cache, tmp_path) -> None:
    from mlx_ltx_cli.tiny import write_tiny_files

    ckpt, upscaler, *_, lora, gemma = write_tiny_files(tmp_path / "files")  # the other upscalers between
    args = ["convert", ckpt, upscaler, lora, "-o", "model", "--text-encoder-path", gemma]
    first = start_ltx(args, ltx_cache, tmp_path)
    assert _wait_for(lambda: (tmp_path / ".model.lock").exists(), first)
    first.send_signal(signal.SIGSTOP)  # a tiny conversion takes a second: hold it while the second one starts
    try:
        second = start_ltx(args, ltx_cache, tmp_path)
        _, err = second.communicate(timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    lines = _error_lines(err)
    assert second.returncode == 2 and "Traceback" not in err, err
    assert lines[-1].startswith("error: model: another process is writing it"), lines[-1]
    assert f"pid {first.pid}, ltx convert" in lines[-1]
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert sorted(os.listdir(tmp_path)) == ["files", "model"]


def test_two_first_builds_of_the_tiny_model_both_succeed(tmp_path) -> None:
    cache = tmp_path / "cache"
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        run.mkdir()
    procs = [start_ltx(TINY, cache, run) for run in runs]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    (root,) = cache.iterdir()
    assert sorted(os.listdir(root)) == ["gemma", "model"]  # the loser's scratch folders are gone
    assert all(os.listdir(run) == ["out.mp4"] for run in runs)


# ---- SIGTERM / SIGHUP ------------------------------------------------------------------------------------------


def _staged_mp4(folder: Path) -> bool:
    return any((folder / n / "out.mp4").exists() for n in os.listdir(folder) if n.startswith(".out.mp4."))


@pytest.mark.parametrize(
    ("signum", "moment"),
    [(signal.SIGTERM, "writing"), (signal.SIGHUP, "writing"), (signal.SIGTERM, "claimed")],
    ids=["sigterm-while-writing", "sighup-while-writing", "sigterm-while-generating"],
)
def test_sigterm_and_sighup_clean_up_like_ctrl_c(signum, moment, tiny, ltx_cache, tmp_path) -> None:
    """``writing``: the MP4 is staged, the frames and the WAV are being written; ``claimed``: the outputs are claimed
    and the model runs."""

    def reached() -> bool:
        return _staged_mp4(tmp_path) if moment == "writing" else (tmp_path / ".out.mp4.lock").exists()

    for _ in range(4):  # the writing moment is short: a run that ends before it is retried
        proc = start_ltx([*TINY, *ALL, "--overwrite"], ltx_cache, tmp_path)
        if _wait_for(reached, proc):
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=120)
            break
        proc.communicate()
        shutil.rmtree(tmp_path / "out_frames", ignore_errors=True)
        for name in OUTPUTS - {"out_frames"}:
            (tmp_path / name).unlink(missing_ok=True)
    else:
        pytest.fail("never caught the run while it was writing")
    lines = _error_lines(err)
    assert proc.returncode == 128 + signum, err
    assert lines == [f"terminated ({signal.Signals(signum).name}): no output was written"], err
    assert snapshot(tmp_path) == {}


def test_sigterm_during_convert_removes_the_partial_folder(ltx_cache, tmp_path) -> None:
    from mlx_ltx_cli.tiny import write_tiny_files

    ckpt, upscaler, *_, lora, gemma = write_tiny_files(tmp_path / "files")  # the other upscalers between
    work = tmp_path / "work"
    work.mkdir()
    proc = start_ltx(["convert", ckpt, upscaler, lora, "-o", "model", "--text-encoder-path", gemma], ltx_cache, work)
    assert _wait_for(lambda: any(n.endswith(".partial") for n in os.listdir(work)), proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert _error_lines(err)[-1] == "error: terminated (SIGTERM); model was not written", err
    assert snapshot(work) == {}


# ---- SIGKILL at random moments ---------------------------------------------------------------------------------


def _left_by_killed_runs(name: str) -> bool:
    """What a killed run may leave: its staging folders (``.NAME.<pid>.partial``) and the claims' lock files."""
    return any(re.fullmatch(rf"\.{re.escape(o)}\.(\d+\.partial|lock)", name) for o in OUTPUTS)


def _complete(folder: Path) -> bool:
    """All four outputs, each whole (the MP4 and WAV read back, nine frames, the latents load), or none."""
    present = OUTPUTS & set(os.listdir(folder))
    if not present:
        return False
    assert present == OUTPUTS, f"a run left only {sorted(present)}"
    from mlx_ltx_pipelines.result import GenerationResult

    streams = {s["codec_type"]: s for s in probe(folder / "out.mp4")["streams"]}
    assert streams["video"]["nb_read_frames"] == "9" and "audio" in streams
    assert (folder / "out.wav").read_bytes()[:4] == b"RIFF"
    assert sorted(os.listdir(folder / "out_frames")) == [f"frame_{i:05d}.png" for i in range(9)]
    GenerationResult.load_latents(folder / "out.latents.safetensors")
    return True


def _kill_lane(folder: Path, seed: int, kills_wanted: int, ltx_cache: Path) -> tuple[int, list[float]]:
    """Runs in ``folder``, each SIGKILLed at a seeded random moment, checking after each what it left; then one run
    that must finish and leave exactly the outputs. Returns (kills, delays)."""
    rng, args = random.Random(seed), [*TINY, *ALL, "--overwrite"]

    def run(delay: float | None) -> tuple[int | None, float]:
        """One run; SIGKILL ``delay`` s after it staged its outputs. (exit code, seconds from staging to the end)."""
        proc = start_ltx(args, ltx_cache, folder)
        staged = _wait_for(lambda: f".out.mp4.{proc.pid}.partial" in os.listdir(folder), proc)
        start = time.monotonic()
        if staged and delay is not None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, -signal.SIGKILL), err
        return proc.returncode, time.monotonic() - start

    _, duration = run(None)
    kills, delays = 0, []
    for trial in range(3 * kills_wanted):
        if kills >= kills_wanted:
            break
        # Every other moment falls in the last 40 % of the run, where the outputs are written and published.
        delays.append(rng.uniform(0, duration) if trial % 2 else rng.uniform(0.6 * duration, 1.05 * duration))
        code, _ = run(delays[-1])
        kills += code == -signal.SIGKILL
        left = set(os.listdir(folder)) - OUTPUTS
        assert all(_left_by_killed_runs(name) for name in left), (trial, left)
        _complete(folder)  # all or none, each whole
    assert run(None)[0] == 0  # the next run removes what the killed ones left
    assert set(os.listdir(folder)) == OUTPUTS and _complete(folder)
    return kills, delays


def test_kill_9_at_random_moments_leaves_no_partial_output(tiny, ltx_cache, tmp_path) -> None:
    """20 kills in two lanes run side by side (each its own folder), to keep the test short."""
    from concurrent.futures import ThreadPoolExecutor

    lanes = [tmp_path / "a", tmp_path / "b"]
    for lane in lanes:
        lane.mkdir()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: _kill_lane(lanes[i], 15 + i, 10, ltx_cache), range(2)))
    assert sum(kills for kills, _ in results) >= 20, results
