"""Transformer component folders: strict round trip, lazy loading, errors naming keys, 4/8-bit quantization."""

from __future__ import annotations

import json

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentError, read_component, save_component, verify_hashes
from mlx_ltx_core.model.transformer import load_transformer, quantize_transformer, save_transformer

import transformer_goldens as tg
from ltx_testing import manifest, max_rel_error

CASE = next(c for c in manifest(tg.FAMILY)["cases"] if c["config"] == "ltx2_av" and c["case"] == "t2v")
# Measured on the tiny ltx2_av model (t2v, group size 32): 8-bit ≈ 4.1e-3, 4-bit ≈ 1.1e-1 of max|v| (video).
QUANT_BOUNDS = {8: 1.5e-2, 4: 2e-1}


def _velocity(model) -> np.ndarray:
    video, audio = tg.modalities(CASE)
    vx, _ = model(video, audio)
    return np.array(vx.astype(mx.float32))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory):
    config, _ = tg.checkpoint(CASE["weights"])
    path = tmp_path_factory.mktemp("model") / "transformer"
    save_transformer(path, tg.build(CASE), config, model_version="tiny-test")
    return path


def test_round_trip_is_exact_and_records_the_config(folder) -> None:
    parsed = read_component(folder, "transformer")
    config, _ = tg.checkpoint(CASE["weights"])
    assert parsed.config == config  # the reference sub-config, verbatim
    assert parsed.info["model_type"] == "AudioVideo" and parsed.quantization is None
    verify_hashes(parsed)
    np.testing.assert_array_equal(_velocity(load_transformer(folder)), _velocity(tg.build(CASE)))


def test_lazy_load_reads_nothing_until_used(folder) -> None:
    mx.clear_cache()
    before = mx.get_active_memory()
    model = load_transformer(folder, lazy=True)
    assert mx.get_active_memory() == before
    np.testing.assert_array_equal(_velocity(model), _velocity(tg.build(CASE)))


def _rewrite(folder, tmp_path, edit) -> object:
    parsed = read_component(folder)
    weights = dict(mx.load(str(folder / "model.safetensors")))
    edit(weights)
    out = tmp_path / "edited"
    save_component(out, "transformer", parsed.config, weights, info=parsed.info)
    return out


def test_missing_key_is_named(folder, tmp_path) -> None:
    path = _rewrite(folder, tmp_path, lambda w: w.pop("transformer_blocks.1.attn2.to_k.bias"))
    with pytest.raises(ComponentError, match=r"missing keys \[transformer_blocks\.1\.attn2\.to_k\.bias\]"):
        load_transformer(path)


def test_unexpected_key_is_named(folder, tmp_path) -> None:
    path = _rewrite(folder, tmp_path, lambda w: w.update({"transformer_blocks.0.extra.weight": mx.zeros((2,))}))
    with pytest.raises(ComponentError, match=r"unexpected keys \[transformer_blocks\.0\.extra\.weight\]"):
        load_transformer(path)


def test_wrong_shape_is_named(folder, tmp_path) -> None:
    path = _rewrite(folder, tmp_path, lambda w: w.update({"proj_out.bias": mx.zeros((64,))}))
    with pytest.raises(ComponentError, match=r"wrong shapes \[proj_out\.bias \(64,\) != \(128,\)\]"):
        load_transformer(path)


def test_truncated_shard_and_other_component_are_refused(folder, tmp_path) -> None:
    path = _rewrite(folder, tmp_path, lambda w: None)
    shard = path / "model.safetensors"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(ComponentError, match="truncated or replaced"):
        load_transformer(path)
    with pytest.raises(ComponentError, match="holds a 'transformer' component, expected 'vocoder'"):
        read_component(folder, "vocoder")


def test_shards_split_at_the_limit(folder, tmp_path) -> None:
    parsed = read_component(folder)
    weights = dict(mx.load(str(folder / "model.safetensors")))
    out = save_component(
        tmp_path / "sharded", "transformer", parsed.config, weights, info=parsed.info, max_shard_bytes=100_000
    )
    index = json.loads((out / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 3 and shards[0] == f"model-00001-of-{len(shards):05d}.safetensors"
    np.testing.assert_array_equal(_velocity(load_transformer(out)), _velocity(tg.build(CASE)))


@pytest.mark.parametrize("bits", [8, 4])
def test_quantized_folder_loads_and_runs(bits: int, tmp_path) -> None:
    config, _ = tg.checkpoint(CASE["weights"])
    model = tg.build(CASE)
    quantization = quantize_transformer(model, bits=bits, group_size=32)
    path = save_transformer(tmp_path / "q", model, config, quantization=quantization)
    keys = dict(tree_flatten(load_transformer(path).parameters()))
    assert keys["transformer_blocks.0.attn1.to_q.weight"].dtype == mx.uint32
    assert "transformer_blocks.0.attn1.to_q.scales" in keys
    assert keys["adaln_single.linear.weight"].dtype == mx.float32  # AdaLN stays in full precision
    assert "transformer_blocks.0.audio_attn1.to_q.scales" not in keys  # 16-wide: not a multiple of 32
    err = max_rel_error(_velocity(load_transformer(path)), _velocity(tg.build(CASE)))
    assert 0 < err < QUANT_BOUNDS[bits], f"{bits}-bit error {err:.2e}"


def test_quantization_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="bits=3 is not supported"):
        quantize_transformer(tg.build(CASE), bits=3)
