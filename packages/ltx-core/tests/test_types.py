"""``VIDEO_SCALE_FACTORS`` and its frame / size rules (8k+1 frames, multiples of 32, 64 two-stage)."""

from __future__ import annotations

import pytest

from mlx_ltx_core.types import VIDEO_SCALE_FACTORS as S


def test_factors_are_the_reference_ones():
    assert tuple(S) == (8, 32, 32)


@pytest.mark.parametrize(("frames", "valid"), [(1, True), (9, True), (121, True), (0, False), (8, False), (9.5, False)])
def test_valid_num_frames(frames, valid):
    assert S.is_valid_num_frames(frames) is valid


def test_frame_and_size_conversions():
    assert [S.latent_frames(n) for n in (1, 9, 17, 121)] == [1, 2, 3, 16]
    assert [S.pixel_frames(f) for f in (1, 2, 3, 16)] == [1, 9, 17, 121]
    assert [S.usable_frames(n) for n in (1, 8, 9, 16, 17, 30)] == [1, 1, 9, 9, 17, 25]
    assert (S.size_multiple(), S.size_multiple(two_stage=True)) == (32, 64)
    assert [S.floor_size(p) for p in (31, 32, 100, 1080)] == [0, 32, 96, 1056]
