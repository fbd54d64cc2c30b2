"""The memory preflight on the tiny model: estimates per stage, refusal with figures and fixes under a small limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlx_ltx_cli.run import MEMORY_FIXES
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.preflight import (
    MemoryEstimate,
    MemoryLimitError,
    check_memory,
    decode_estimate,
    denoise_estimate,
)
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
    limit = denoise.streamed_total - 1  # not even low memory fits
    with pytest.raises(ValueError, match=r"denoise stage is .* over the .* limit; try quantized transformer weights"):
        check_memory([denoise], limit, quantized=False)
    with pytest.raises(ValueError, match=r"try a smaller height/width or num_frames, or a larger limit$"):
        check_memory([denoise], limit, quantized=True)
    with pytest.raises(MemoryLimitError) as error:
        check_memory([denoise], limit, quantized=False)
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
        check_memory([denoise], denoise.streamed_total - 1, quantized=False)
    assert "ltx convert CHECKPOINT -o DIR --quantize 8" in error.value.describe(CONVERTED)


@pytest.fixture(scope="module")
def deep(tiny, tmp_path_factory) -> Path:
    """The tiny model folder with a 6-layer transformer (random weights): two blocks are a third of the blocks."""
    from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, save_transformer

    root = tmp_path_factory.mktemp("deep") / "model"
    shutil.copytree(tiny[0], root)
    folder = ModelLedger(root).component("transformer")
    config = {**folder.config, "num_layers": 6}
    model = LTXModel(LTXModelArgs.from_dict(config, folder.info["model_type"]))
    save_transformer(folder.path, model, config, model_version=folder.info.get("model_version"), overwrite=True)
    return root


def test_low_memory_is_estimated_and_suggested_when_it_fits(deep) -> None:
    from mlx_ltx_core.model.transformer.streaming import stored_bytes

    resident = denoise_estimate(ModelLedger(deep), SHAPE, 1, True)
    streamed = denoise_estimate(ModelLedger(deep, low_memory=True), SHAPE, 1, True)
    sizes = stored_bytes(ModelLedger(deep).component("transformer"))
    blocks = [sum(n for k, n in sizes.items() if k.startswith(f"transformer_blocks.{b}.")) for b in range(6)]
    assert streamed.working == resident.working and resident.weights == sum(sizes.values())
    assert streamed.weights == resident.weights - sum(blocks) + 2 * max(blocks)  # the resident part + two blocks
    assert resident.streamed_weights == streamed.weights
    limit = resident.total - 1  # between the two: low memory is the first fix
    assert streamed.total <= limit
    small_decode = MemoryEstimate("decode", 0, streamed.total)
    with pytest.raises(MemoryLimitError) as error:
        check_memory([resident, small_decode], limit, quantized=True)
    assert "try --low-memory or a smaller --height/--width" in error.value.describe(MEMORY_FIXES)
    assert "try low_memory=True (the transformer's blocks read from disk" in str(error.value)
    check_memory([streamed, small_decode], limit, quantized=True)  # with it, the generation fits
    with pytest.raises(MemoryLimitError) as error:  # already in force: not suggested again
        check_memory([streamed], streamed.total - 1, quantized=True)
    assert "low-memory" not in error.value.describe(MEMORY_FIXES)
    big_decode = MemoryEstimate("decode", 0, (streamed.total + resident.total) // 2)  # over the limit below
    with pytest.raises(MemoryLimitError) as error:  # low memory would not make every stage fit: not suggested
        check_memory([resident, big_decode], big_decode.total - 1, quantized=True)
    assert error.value.estimate is resident and "low-memory" not in error.value.describe(MEMORY_FIXES)
