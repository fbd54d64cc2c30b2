"""The memory preflight on the tiny model: estimates per stage, refusal with figures and fixes under a small limit."""

from __future__ import annotations

import pytest

from mlx_ltx_cli.run import MEMORY_FIXES
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.preflight import MemoryLimitError, check_memory, decode_estimate, denoise_estimate
from mlx_ltx_pipelines.types import VideoPixelShape

SHAPE = VideoPixelShape(1, 9, 128, 192, 24.0)


def test_estimates_grow_with_passes_and_size(tiny) -> None:
    ledger = ModelLedger(tiny[0])
    one = denoise_estimate(ledger, SHAPE, 1, True)
    four = denoise_estimate(ledger, SHAPE, 4, True)
    big = denoise_estimate(ledger, VideoPixelShape(1, 17, 256, 384, 24.0), 1, True)
    assert one.weights == four.weights > 0
    assert four.working == 4 * one.working
    assert big.working > one.working
    long = VideoPixelShape(1, 97, 512, 768, 24.0)  # tiling pays off on long videos
    assert decode_estimate(ledger, long, "none").working > decode_estimate(ledger, long, "aggressive").working


def test_a_small_limit_is_refused_with_the_figures_and_the_fix(tiny) -> None:
    ledger = ModelLedger(tiny[0])
    estimates = [denoise_estimate(ledger, SHAPE, 4, True), decode_estimate(ledger, SHAPE, "auto")]
    check_memory(estimates, 10**12, quantized=False)  # fits
    denoise = estimates[0]
    with pytest.raises(ValueError, match=r"denoise stage is .* over the .* limit; try quantized transformer weights"):
        check_memory([denoise], denoise.total - 1, quantized=False)
    with pytest.raises(ValueError, match=r"try a smaller height/width or num_frames, or a larger limit$"):
        check_memory([denoise], denoise.total - 1, quantized=True)
    with pytest.raises(MemoryLimitError) as error:
        check_memory([denoise], denoise.total - 1, quantized=False)
    cli = error.value.describe(MEMORY_FIXES)
    assert "try --quantize 8 (or 4) or a smaller --height/--width or --num-frames, or raise --memory-limit" in cli


def test_a_fix_already_in_force_is_not_suggested(tiny) -> None:
    from mlx_ltx_cli.run import CONVERTED

    decode = decode_estimate(ModelLedger(tiny[0]), SHAPE, "aggressive")
    with pytest.raises(MemoryLimitError) as error:
        check_memory([decode], decode.total - 1, quantized=False, tiling="aggressive")
    assert "aggressive" not in error.value.describe(MEMORY_FIXES)
    with pytest.raises(MemoryLimitError) as error:
        check_memory([decode], decode.total - 1, quantized=False, tiling="auto")
    assert "--tiling aggressive" in error.value.describe(MEMORY_FIXES)
    denoise = denoise_estimate(ModelLedger(tiny[0]), SHAPE, 1, True)
    with pytest.raises(MemoryLimitError) as error:  # a converted model is quantized by converting it again
        check_memory([denoise], denoise.total - 1, quantized=False)
    assert "ltx convert CHECKPOINT -o DIR --quantize 8" in error.value.describe(CONVERTED)
