"""Per-stage constants: inside ``stage_constants()`` the RoPE tables, projected context and masks are computed once
per array and the outputs stay bit for bit those of a plain call; new arrays (a new stage, other positions) are
never served an old entry."""

from __future__ import annotations

import dataclasses

import mlx.core as mx
import numpy as np
import pytest

import transformer_goldens as tg
from ltx_testing import manifest

CASES = manifest(tg.FAMILY)["cases"]
# One case per config: every model type and both RoPE layouts / caption projection variants.
FIRST = list({c["config"]: c for c in reversed(CASES)}.values())


def _step(video, audio, latent_scale: float):
    """The next step of a stage: new latents and sigma, the very same positions / context / mask arrays."""

    def move(m):
        if m is None:
            return None
        return dataclasses.replace(m, latent=m.latent * latent_scale, sigma=m.sigma * latent_scale)

    return move(video), move(audio)


@pytest.mark.parametrize("case", FIRST, ids=[c["config"] for c in FIRST])
def test_steps_in_a_stage_reuse_constants_and_match_plain_calls(case: dict) -> None:
    model = tg.build(case)
    video, audio = tg.modalities(case)
    steps = [(video, audio), _step(video, audio, 0.7), _step(video, audio, 0.4)]
    plain = [model(v, a) for v, a in steps]
    with model.stage_constants() as cache:
        staged = [model(v, a) for v, a in steps]
        misses = cache.misses
        assert cache.hits == 2 * misses  # everything computed at the first step is reused at the next two
    assert model._constants is None  # freed with the stage
    for ours, ref in zip(staged, plain, strict=True):
        for x, y in zip(ours, ref, strict=True):
            if y is not None:
                np.testing.assert_array_equal(np.array(x), np.array(y))


def test_other_arrays_are_not_served_old_entries() -> None:
    case = next(c for c in CASES if c["config"] == "ltx2_av")
    model = tg.build(case)
    video, audio = tg.modalities(case)
    shifted = dataclasses.replace(video, positions=video.positions + 1.0)
    with model.stage_constants() as cache:
        first = model(video, audio)[0]
        moved = model(shifted, audio)[0]
        again = model(dataclasses.replace(video, positions=mx.array(video.positions)), audio)[0]
        assert cache.hits > 0 and cache.misses > 0
    np.testing.assert_array_equal(np.array(moved), np.array(model(shifted, audio)[0]))
    assert not np.array_equal(np.array(first), np.array(moved))
    np.testing.assert_array_equal(np.array(again), np.array(first))  # equal values through a new entry
