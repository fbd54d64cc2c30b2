"""Sequence-parallel transformer on real ``mx.distributed`` ranks (mlx.launch, ring backend over loopback).

Every golden case (LTX-2, 2.3, 2.5; guidance batches, STG / isolation perturbations, keyframe tokens with their
attention mask, LTX-2.5 keyframe marks, frozen A2V audio, video-only calls) on 2 ranks, and one token shorter on
3 ranks (an uneven split): every rank's output equals the single-process model's within 1e-5·max|ref| (float32)
and the float64 golden within the transformer parity bound. The worker asserts; here the exit code and its lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ranks import launch

from mlx_ltx_core.model.transformer.sequence_parallel import sequence_partition

WORKER = Path(__file__).with_name("sp_transformer_worker.py")
# mlx.launch exits 0 even when a rank fails: each worker asserts and prints its lines; a missing line fails here.


def test_partition_is_uneven_and_ordered() -> None:
    assert sequence_partition(71, 3) == [24, 24, 23]
    assert sequence_partition(96, 2) == [48, 48]
    with pytest.raises(ValueError, match="2 video tokens cannot be split over 3 ranks"):
        sequence_partition(2, 3)


@pytest.mark.parametrize(("ranks", "cut"), [(2, False), (3, True)], ids=["2-ranks", "3-ranks-uneven"])
def test_split_equals_whole_model_on_real_ranks(ranks: int, cut: bool) -> None:
    done = launch(ranks, [str(WORKER), *(["--cut"] if cut else [])], cwd=WORKER.parent)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    lines = done.stdout.split("\n")
    assert sum(1 for line in lines if line.startswith("ltx2_av-")) == 5, done.stdout
    assert any(line.startswith("ltx25_av-keyframe_slots") for line in lines), done.stdout


@pytest.mark.parametrize("ranks", [2, 3])
def test_tiled_decode_spread_over_ranks_equals_one_process(ranks: int) -> None:
    worker = WORKER.with_name("sp_decode_worker.py")
    done = launch(ranks, [str(worker)], cwd=worker.parent)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert [line.split()[0] for line in done.stdout.strip().split("\n")] == ["tiled", "noise"], done.stdout
