"""LoRA / IC-LoRA files become their own component folder (metadata kept); upscaler files use their flat config
and reproduce their goldens after conversion."""

from __future__ import annotations

import dataclasses
import json

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_convert.components import COMPONENTS, LATENT_UPSAMPLER
from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError, ConversionWarning
from mlx_ltx_convert.layouts.upsampler import folder_name
from mlx_ltx_core.loader import load_weights, read_component
from mlx_ltx_core.model.upsampler import load_latent_upsampler

import vae_goldens as vg
from lightricks_files import bf16_bits, golden_checkpoint, write_safetensors
from ltx_testing import assert_parity

BLOCK = "diffusion_model.transformer_blocks.0.attn1.to_q"
LORA_META = {"reference_downscale_factor": "2", "ss_network_dim": "4"}


def _lora(path, extra: dict | None = None):
    rng = np.random.default_rng(0)
    tensors = {
        f"{BLOCK}.lora_A.weight": ("BF16", bf16_bits(rng.standard_normal((4, 32)))),
        f"{BLOCK}.lora_B.weight": ("BF16", bf16_bits(rng.standard_normal((32, 4)))),
        f"{BLOCK}.alpha": ("F32", np.array(4.0, np.float32)),
        **(extra or {}),
    }
    return write_safetensors(path, tensors, LORA_META), tensors


def test_lora_keeps_metadata_and_transformer_paths(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "ltx2_av.safetensors", "ltx2_av")
    lora, tensors = _lora(tmp_path / "ic-lora-canny.safetensors")
    report = convert([ckpt, lora], tmp_path / "out")
    folder = report.output / "loras" / "ic-lora-canny"
    parsed = read_component(folder, "lora")
    assert parsed.config == LORA_META  # verbatim, e.g. reference_downscale_factor for IC-LoRAs
    assert parsed.info["target"] == "transformer" and parsed.info["ranks"] == [4]
    weights = load_weights(parsed)
    assert sorted(weights) == [
        "transformer_blocks.0.attn1.to_q.lora_A.weight",
        "transformer_blocks.0.attn1.to_q.lora_B.weight",
    ]
    import mlx.core as mx

    a = weights["transformer_blocks.0.attn1.to_q.lora_A.weight"]
    assert a.dtype == mx.bfloat16
    np.testing.assert_array_equal(np.array(a.view(mx.uint16)), tensors[f"{BLOCK}.lora_A.weight"][1])
    assert report.index["components"]["loras/ic-lora-canny"]["component"] == "lora"
    assert report.index["sources"][1]["ignored_tensors"] == 1  # the alpha, which Lightricks never reads


def test_a_lora_alone_and_broken_loras(tmp_path) -> None:
    lora, _ = _lora(tmp_path / "cam.safetensors")
    assert (convert([lora], tmp_path / "alone").output / "loras" / "cam" / "config.json").exists()
    bad_rank = {f"{BLOCK}.lora_B.weight": ("F32", np.ones((32, 3), np.float32))}
    broken, _ = _lora(tmp_path / "broken.safetensors", bad_rank)
    with pytest.raises(ConversionError, match=r"lora_A \[4, 32\] and lora_B \[32, 3\] disagree on the rank"):
        convert([broken], tmp_path / "out")
    half = write_safetensors(
        tmp_path / "half.safetensors", {f"{BLOCK}.lora_A.weight": ("F32", np.ones((4, 32), np.float32))}, {}
    )
    with pytest.raises(ConversionError, match=r"has \['lora_A'\] but needs lora_A and lora_B"):
        convert([half], tmp_path / "out")
    peft = write_safetensors(
        tmp_path / "peft.safetensors", {"base_model.model.x.lora_A.weight": ("F32", np.ones((4, 2), np.float32))}, {}
    )
    with pytest.raises(ConversionError, match=r"no diffusion_model\.\*\.lora_A/lora_B\.weight keys"):
        convert([peft], tmp_path / "out")


UPSAMPLER_CASES = vg.cases("upsampler")


def _upscaler(path, case: tuple[str, dict] = UPSAMPLER_CASES[0]):
    """A Lightricks upscaler file (model keys, flat config metadata) from a golden upsampler case."""
    _, info = case
    tensors = {k: ("F32", v) for k, v in vg.checkpoint(info).items()}
    return write_safetensors(path, tensors, {"config": json.dumps(info["config"])}), tensors


@pytest.mark.parametrize("case", UPSAMPLER_CASES, ids=[c[0] for c in UPSAMPLER_CASES])
def test_upscaler_converts_and_reproduces_its_golden(tmp_path, case) -> None:
    name, info = case
    ckpt = golden_checkpoint(tmp_path / "ltx2_av.safetensors", "ltx2_av")
    up, _ = _upscaler(tmp_path / f"{name}.safetensors", case)
    report = convert([ckpt, up], tmp_path / "out")
    folder = report.output / folder_name(info["config"])
    assert read_component(folder, "latent_upsampler").config == info["config"]
    model = load_latent_upsampler(folder)
    latent = mx.array(vg.tensors(name, info, "inputs")["latent"])
    assert_parity(model(latent), vg.tensors(name, info, "outputs")["latent_up"], 1e-4, name)
    assert sorted(report.index["components"]) == sorted([folder_name(info["config"]), "transformer"])


def test_upscaler_without_its_spec_is_reported(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "ltx2_av.safetensors", "ltx2_av")
    up, tensors = _upscaler(tmp_path / "up.safetensors")
    components = tuple(s for s in COMPONENTS if s.name != "latent_upsampler")
    report = convert([ckpt, up], tmp_path / "out", components=components)
    n = len(tensors)
    assert report.index["not_converted"] == {
        "latent_upsampler": f"{n} tensors of up.safetensors: "
        "latent_upsampler not converted (no component spec reads it)"
    }
    with pytest.raises(ConversionError, match=rf"nothing this build can convert: {n} tensors of up\.safetensors"):
        convert([up], tmp_path / "only", components=components)


def test_two_checkpoints_or_two_same_upscalers_are_refused(tmp_path) -> None:
    a = golden_checkpoint(tmp_path / "a.safetensors", "ltx2_av")
    b = golden_checkpoint(tmp_path / "b.safetensors", "ltx23_av", model_version="2.3.0")
    with pytest.raises(ConversionError, match=r"several model checkpoints \(a\.safetensors, b\.safetensors\)"):
        convert([a, b], tmp_path / "out")
    up1, _ = _upscaler(tmp_path / "up1.safetensors")
    up2, _ = _upscaler(tmp_path / "up2.safetensors")
    with pytest.raises(ConversionError, match=r"up2\.safetensors and up1\.safetensors would both be written to"):
        convert([a, up1, up2], tmp_path / "out")


def test_missing_builder_package_is_a_warning_naming_it(tmp_path) -> None:
    """A spec whose builder's package is not installed converts, warning which check is skipped and what to install."""
    up, _ = _upscaler(tmp_path / "up.safetensors")
    absent = dataclasses.replace(LATENT_UPSAMPLER, builder="mlx_ltx_absent.loading:build")
    components = tuple(absent if s is LATENT_UPSAMPLER else s for s in COMPONENTS)
    message = "mlx-ltx-absent is not installed: the latent_upsampler shape check is skipped; pip install mlx-ltx-absent"
    with pytest.warns(ConversionWarning, match=message):
        report = convert([up], tmp_path / "out", components=components)
    assert list(report.index["components"]) == [folder_name(UPSAMPLER_CASES[0][1]["config"])]


def test_missing_builder_function_is_an_error() -> None:
    """Only an absent package is a warning: a builder that its installed package lacks is a bug in the spec."""
    with pytest.raises(AttributeError):
        dataclasses.replace(LATENT_UPSAMPLER, builder="mlx_ltx_core.loader:no_such_builder").build_function()
