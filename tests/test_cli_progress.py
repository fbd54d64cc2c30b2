"""`ltx generate -v` without a terminal: one line per step, with its ETA; the decode counts its tiles, the H.264
encoder and the audio mux count frames (issue 14 item 10: they were single-step bars without an ETA)."""

from __future__ import annotations

import re
import shutil

import pytest

from cli_testing import run_ltx

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")
LINE = re.compile(r"^(?P<stage>[a-z0-9 ]+): (?P<done>\d+)/(?P<total>\d+)(?:, ETA (?P<eta>[\d.]+) s| in [\d.]+ s)?$")


def _steps(stdout: str) -> dict[str, list[tuple[int, int, str | None]]]:
    """stage → [(done, total, ETA text or None)] from the plain progress lines."""
    steps: dict[str, list[tuple[int, int, str | None]]] = {}
    for line in stdout.splitlines():
        m = LINE.match(line.strip())
        if m:
            steps.setdefault(m["stage"], []).append((int(m["done"]), int(m["total"]), m["eta"]))
    return steps


def test_decode_tiles_and_mux_frames_have_progress_with_eta(tiny, ltx_cache, tmp_path) -> None:
    args = ["generate", "--model", "tiny", "-p", "a fox", "-v", "--tiling", "aggressive", "-H", "256", "-W", "384"]
    done = run_ltx([*args, "-n", "33", "-o", "p.mp4"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    steps = _steps(done.stdout)
    decode = steps["decode"]
    tiles = decode[0][1]
    assert tiles > 2 and [d for d, _, _ in decode] == list(range(tiles + 1)), decode  # every tile, in order
    assert all(eta is not None for d, _, eta in decode if 0 < d < tiles)  # an ETA once a tile is done
    for stage in ("h264", "mux"):
        assert {total for _, total, _ in steps[stage]} == {33}, steps[stage]  # counted in frames
        assert steps[stage][-1][0] == 33
    assert "stage 1" in steps and any(eta for _, _, eta in steps["stage 1"])


def test_an_untiled_decode_is_one_step(tiny, ltx_cache, tmp_path) -> None:
    done = run_ltx(["generate", "--model", "tiny", "-p", "a fox", "-v", "-o", "q.mp4"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [d for d, _, _ in _steps(done.stdout)["decode"]] == [0, 1]  # the whole latent in one forward
