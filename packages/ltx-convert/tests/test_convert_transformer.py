"""Tiny Lightricks checkpoints (golden weights) → ltx-convert → load_transformer → the golden outputs, every case.

Also: bf16 stays bf16 bit for bit, fp8 files are dequantized exactly (``W = fp8 · weight_scale``), tensors of
components this build cannot convert are reported, and model_index.json records sources and components.
"""

from __future__ import annotations

import json

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_convert import prefixes
from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_core.loader import read_component, sha256_file
from mlx_ltx_core.model.transformer import load_transformer

import transformer_goldens as tg
from lightricks_files import bf16_bits, fp8_codes, fp8_values, golden_checkpoint, golden_weights, write_safetensors
from ltx_testing import assert_parity, group, load, manifest

CASES = manifest(tg.FAMILY)["cases"]
CONFIGS = sorted({c["config"] for c in CASES})
F32_REL = 1e-3  # the transformer parity tolerance (float32 vs the float64 reference)
PREFIX = prefixes.TRANSFORMER
# A real checkpoint's tensor no pipeline uses: the video-only models' text connector (reported, not converted).
OTHERS = {f"{PREFIX}embeddings_connector.learnable_registers": ("F32", np.ones((128, 4), np.float32))}


def _version(config_name: str) -> str:
    return {"ltx23": "2.3.0", "ltx25": "2.5.0"}.get(config_name[:5], "2.0.0")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """config name → (checkpoint file, model folder), converted once per module."""
    root = tmp_path_factory.mktemp("converted")
    out = {}
    for name in CONFIGS:
        ckpt = golden_checkpoint(root / f"{name}.safetensors", name, model_version=_version(name), extra=OTHERS)
        out[name] = (ckpt, convert([ckpt], root / f"{name}-mlx").output)
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c['config']}-{c['case']}" for c in CASES])
def test_converted_transformer_reproduces_the_goldens(case: dict, converted: dict) -> None:
    model = load_transformer(converted[case["config"]][1] / "transformer")
    video, audio = tg.modalities(case)
    vx, ax = model(video, audio, tg.perturbations(case, model.args.num_layers))
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")
    for name, value in (("video.velocity", vx), ("audio.velocity", ax)):
        if value is not None:
            assert_parity(np.array(value), ref[name], F32_REL, f"{case['config']}-{case['case']} {name}")


@pytest.mark.parametrize("name", CONFIGS)
def test_weights_are_the_checkpoint_tensors_and_the_config_is_verbatim(name: str, converted: dict) -> None:
    _, folder = converted[name]
    metadata_config, weights = golden_weights(name)
    parsed = read_component(folder / "transformer", "transformer")
    assert parsed.config == metadata_config["transformer"]
    assert parsed.info["model_version"] == _version(name)
    assert parsed.info["model_type"] == tg.model_type(name)
    ours = dict(tree_flatten(load_transformer(folder / "transformer").parameters()))
    assert sorted(ours) == sorted(k.removeprefix(PREFIX) for k in weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(np.array(ours[key.removeprefix(PREFIX)]), value, err_msg=key)


def test_model_index_records_sources_components_and_what_is_left(converted: dict) -> None:
    ckpt, folder = converted["ltx2_av"]
    index = json.loads((folder / "model_index.json").read_text())
    assert index["format_version"] == 1 and index["model_version"] == "2.0.0" and index["model_family"] == "ltx-2"
    assert index["converter"]["name"] == "mlx-ltx-convert"
    assert index["sources"] == [
        {"file": ckpt.name, "kind": "checkpoint", "size": ckpt.stat().st_size, "sha256": sha256_file(ckpt)}
    ]
    assert list(index["components"]) == ["transformer"]
    assert index["not_converted"] == {
        "video-only text connector": f"{PREFIX}embeddings_connector.* (1 tensors of {ckpt.name}): "
        "video-only text connector not converted (no component spec reads it)"
    }
    assert not list(folder.parent.glob(".*partial")), "no temporary folder left behind"


def test_bfloat16_checkpoint_stays_bfloat16_bit_for_bit(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "bf16.safetensors", "ltx2_av", dtype="BF16")
    model = load_transformer(convert([ckpt], tmp_path / "out").output / "transformer")
    _, weights = golden_weights("ltx2_av")
    params = dict(tree_flatten(model.parameters()))
    for key, value in weights.items():
        param = params[key.removeprefix(PREFIX)]
        assert param.dtype == mx.bfloat16
        np.testing.assert_array_equal(np.array(param.view(mx.uint16)), bf16_bits(value), err_msg=key)


def _fp8_checkpoint(path, name: str = "ltx2_av") -> tuple:
    """Block Linear weights as scaled float8_e4m3fn (per-tensor scale = amax / 448) with input scales, like
    Lightricks' fp8 files; everything else bf16."""
    config, weights = golden_weights(name)
    tensors, expected = {}, {}
    for key, value in weights.items():
        if ".transformer_blocks." in key and key.endswith(".weight") and value.ndim == 2:
            scale = np.float32(np.abs(value).max() / 448.0)
            codes = fp8_codes(value / scale)
            tensors[key] = ("F8_E4M3", codes)
            tensors[key.removesuffix("weight") + "weight_scale"] = ("F32", np.array(scale, np.float32))
            tensors[key.removesuffix("weight") + "input_scale"] = ("F32", np.array(0.5, np.float32))
            expected[key] = fp8_values(codes) * scale
        else:
            tensors[key] = ("BF16", bf16_bits(value))
    meta = {"config": json.dumps(config), "model_version": "2.0.0"}
    return write_safetensors(path, tensors, meta), expected


def test_fp8_weights_are_dequantized_exactly(tmp_path) -> None:
    ckpt, expected = _fp8_checkpoint(tmp_path / "fp8.safetensors")
    report = convert([ckpt], tmp_path / "out", dtype="float32")
    model = load_transformer(report.output / "transformer")
    params = dict(tree_flatten(model.parameters()))
    assert len(expected) > 20
    for key, value in expected.items():
        np.testing.assert_array_equal(np.array(params[key.removeprefix(PREFIX)]), value, err_msg=key)
    assert not any(k.endswith(("weight_scale", "input_scale")) for k in params)
    assert report.index["sources"][0]["ignored_tensors"] == len(expected)  # the input scales
    case = next(c for c in CASES if c["config"] == "ltx2_av" and c["case"] == "t2v")
    video, audio = tg.modalities(case)
    vx, _ = model(video, audio)
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")["video.velocity"]
    # fp8 (3 mantissa bits) and bf16 weights: close to the float64 reference, not equal.
    assert_parity(np.array(vx), ref, 0.2, "fp8 video.velocity")


def test_nvfp4_prequantized_files_are_refused_by_name(tmp_path) -> None:
    """LTX-2.5's ``…-nvfp4`` transformer: U8 packed weights with F8 ``weight_scale`` and F32 ``weight_scale_2``."""
    key = f"{PREFIX}transformer_blocks.0.attn1.to_q"
    extra = {
        f"{key}.weight_scale": ("F8_E4M3", np.zeros((32, 2), np.uint8)),
        f"{key}.weight_scale_2": ("F32", np.ones((), np.float32)),
    }
    ckpt = golden_checkpoint(tmp_path / "x-nvfp4.safetensors", "ltx25_av", model_version="2.5.0", extra=extra)
    with pytest.raises(ConversionError, match=r"x-nvfp4\.safetensors: an NVFP4 prequantized file \(.*weight_scale_2\)"):
        convert([ckpt], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fp8_keeps_bfloat16_by_default(tmp_path) -> None:
    ckpt, expected = _fp8_checkpoint(tmp_path / "fp8.safetensors")
    folder = convert([ckpt], tmp_path / "out").output / "transformer"
    params = dict(tree_flatten(load_transformer(folder).parameters()))
    key = next(iter(expected))
    assert params[key.removeprefix(PREFIX)].dtype == mx.bfloat16
    np.testing.assert_array_equal(np.array(params[key.removeprefix(PREFIX)].view(mx.uint16)), bf16_bits(expected[key]))


def test_unknown_keys_and_versions_are_refused(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "a.safetensors", "ltx2_av", extra={"foo.bar": ("F32", np.ones(2, np.float32))})
    with pytest.raises(ConversionError, match=r"1 tensors no LTX component reads \(e\.g\. \['foo\.bar'\]\)"):
        convert([ckpt], tmp_path / "out")
    ckpt = golden_checkpoint(tmp_path / "b.safetensors", "ltx2_av", model_version="2.6.0")
    with pytest.raises(
        ConversionError, match=r"unknown model version '2\.6\.0'; this converter knows ltx-2 \(2\.0\.x\)"
    ):
        convert([ckpt], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_config_that_does_not_match_the_tensors_is_refused_before_writing(tmp_path) -> None:
    config, _ = golden_weights("ltx2_av")
    bad = {**config["transformer"], "num_layers": 3}
    ckpt = golden_checkpoint(tmp_path / "c.safetensors", "ltx2_av", extra_config={"transformer": bad})
    with pytest.raises(
        ConversionError, match=r"do not match the model its config describes: missing \['transformer_blocks\.2"
    ):
        convert([ckpt], tmp_path / "out")
    assert not list(tmp_path.glob(".out*"))


def test_wrong_shapes_are_named(tmp_path) -> None:
    config, _ = golden_weights("ltx2_av")
    bad = {**config["transformer"], "caption_channels": 48}
    ckpt = golden_checkpoint(tmp_path / "d.safetensors", "ltx2_av", extra_config={"transformer": bad})
    with pytest.raises(
        ConversionError,
        match=r"wrong shapes \['audio_caption_projection\.linear_1\.weight \[16, 24\] != \[16, 48\]', 'caption_proj",
    ):
        convert([ckpt], tmp_path / "out")


def test_float32_checkpoint_cast_to_bfloat16(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "f32.safetensors", "ltx2_video_only")
    folder = convert([ckpt], tmp_path / "out", dtype="bfloat16").output
    params = dict(tree_flatten(load_transformer(folder / "transformer").parameters()))
    _, weights = golden_weights("ltx2_video_only")
    for key, value in weights.items():
        np.testing.assert_array_equal(np.array(params[key.removeprefix(PREFIX)].view(mx.uint16)), bf16_bits(value))
    assert json.loads((folder / "model_index.json").read_text())["dtype"] == "bfloat16"
