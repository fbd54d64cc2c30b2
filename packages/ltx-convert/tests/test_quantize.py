"""4/8-bit conversions: the transformer's recipe, bit-identical to quantizing in memory, and the mixed recipe."""

from __future__ import annotations

import json
import re

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.quantize import QuantizeOptions
from mlx_ltx_core.loader import read_component
from mlx_ltx_core.model.transformer import load_transformer, quantize_transformer

import transformer_goldens as tg
from lightricks_files import golden_checkpoint, golden_weights, write_safetensors
from ltx_testing import manifest, max_rel_error

CASE = next(c for c in manifest(tg.FAMILY)["cases"] if c["config"] == "ltx2_av" and c["case"] == "t2v")
# Same bounds as the in-memory quantization test of mlx-ltx-core (tiny ltx2_av, t2v, group size 32).
QUANT_BOUNDS = {8: 1.5e-2, 4: 2e-1}


def _velocity(model) -> np.ndarray:
    video, audio = tg.modalities(CASE)
    vx, _ = model(video, audio)
    return np.array(vx.astype(mx.float32))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory):
    return golden_checkpoint(tmp_path_factory.mktemp("q") / "ltx2_av.safetensors", "ltx2_av")


@pytest.mark.parametrize("bits", [8, 4])
def test_quantized_conversion_equals_quantizing_in_memory(bits: int, checkpoint, tmp_path) -> None:
    report = convert([checkpoint], tmp_path / "out", quantize=QuantizeOptions(bits, group_size=32))
    folder = report.output / "transformer"
    assert read_component(folder).quantization == {
        "group_size": 32,
        "bits": bits,
        "mode": "affine",
        "recipe": "default",
    }
    ours = dict(tree_flatten(load_transformer(folder).parameters()))
    reference = tg.build(CASE)
    quantize_transformer(reference, bits=bits, group_size=32)
    theirs = dict(tree_flatten(reference.parameters()))
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_array_equal(np.array(ours[key]), np.array(value), err_msg=key)
    assert ours["adaln_single.linear.weight"].dtype == mx.float32  # AdaLN stays in full precision
    assert "transformer_blocks.0.audio_attn1.to_q.scales" not in ours  # 16 wide: not a multiple of 32
    err = max_rel_error(_velocity(load_transformer(folder)), _velocity(tg.build(CASE)))
    assert 0 < err < QUANT_BOUNDS[bits], f"{bits}-bit error {err:.2e}"


def _deep_checkpoint(path, layers: int):
    """The golden ltx2_av weights repeated over ``layers`` blocks (block i = golden block i % 2)."""
    config, weights = golden_weights("ltx2_av")
    config = {**config, "transformer": {**config["transformer"], "num_layers": layers}}
    tensors = {}
    for key, value in weights.items():
        match = re.match(r"(model\.diffusion_model\.transformer_blocks\.)(\d+)\.(.*)", key)
        if match is None:
            tensors[key] = ("F32", value)
            continue
        for i in range(int(match.group(2)), layers, 2):
            tensors[f"{match.group(1)}{i}.{match.group(3)}"] = ("F32", value)
    return write_safetensors(path, tensors, {"config": json.dumps(config), "model_version": "2.0.0"}), config


def test_mixed_recipe_keeps_edge_blocks_at_8_bits_and_loads(tmp_path) -> None:
    ckpt, _ = _deep_checkpoint(tmp_path / "deep.safetensors", layers=7)
    report = convert([ckpt], tmp_path / "out", quantize=QuantizeOptions(4, group_size=32, mixed=True))
    folder = report.output / "transformer"
    block = read_component(folder).quantization
    assert block["bits"] == 4 and block["recipe"] == "mixed"
    overridden = {k for k, v in block.items() if isinstance(v, dict)}
    # 7 layers: block 0 and the last five (2..6) are sensitive; only block 1 stays at 4 bits.
    assert "transformer_blocks.0.attn1.to_q" in overridden and "transformer_blocks.6.ff.net.2" in overridden
    assert not any(k.startswith("transformer_blocks.1.") for k in overridden)
    model = load_transformer(folder)
    assert model.transformer_blocks[0].attn1.to_q.bits == 8
    assert model.transformer_blocks[1].attn1.to_q.bits == 4
    assert isinstance(model.transformer_blocks[1].ff.net[2], nn.QuantizedLinear)
    float_model = load_transformer(convert([ckpt], tmp_path / "f").output / "transformer")
    assert float_model.args.num_layers == 7
    assert 0 < max_rel_error(_velocity(model), _velocity(float_model)) < QUANT_BOUNDS[4]


def test_mixed_8_bit_keeps_edge_blocks_in_float(tmp_path) -> None:
    ckpt, _ = _deep_checkpoint(tmp_path / "deep.safetensors", layers=7)
    folder = convert([ckpt], tmp_path / "out", quantize=QuantizeOptions(8, group_size=32, mixed=True)).output
    params = dict(tree_flatten(load_transformer(folder / "transformer").parameters()))
    assert params["transformer_blocks.1.attn1.to_q.weight"].dtype == mx.uint32
    assert params["transformer_blocks.0.attn1.to_q.weight"].dtype == mx.float32
    assert params["transformer_blocks.6.attn1.to_q.weight"].dtype == mx.float32


def test_quantization_options_are_checked(checkpoint, tmp_path) -> None:
    with pytest.raises(ConversionError, match="bits=3 is not supported; use 4 or 8"):
        QuantizeOptions(3)
    with pytest.raises(ConversionError, match="group_size=48 is not supported"):
        QuantizeOptions(4, group_size=48)
    with pytest.raises(ConversionError, match=r"quantize components vocoder: not among the converted components"):
        convert([checkpoint], tmp_path / "out", quantize=QuantizeOptions(4, components=("vocoder",)))
