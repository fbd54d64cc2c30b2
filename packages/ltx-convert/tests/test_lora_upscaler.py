"""LoRA / IC-LoRA files become their own component folder (metadata kept); upscaler files use their flat config.

The latent upsampler's spec arrives with the VAE port; here a spec with the same shape (flat config, no prefix,
channels-last convolutions) is registered in a test registry to exercise the upscaler path end to end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_core.checkpoint import REGISTRY, UPSCALER, ComponentSpec, Registry
from mlx_ltx_core.loader import load_weights, read_component

from lightricks_files import bf16_bits, golden_checkpoint, write_safetensors

BLOCK = "diffusion_model.transformer_blocks.0.attn1.to_q"
LORA_META = {"reference_downscale_factor": "2", "ss_network_dim": "4"}
UPSCALER_CONFIG = {
    "_class_name": "LatentUpsampler",
    "in_channels": 8,
    "mid_channels": 16,
    "num_blocks_per_stage": 1,
    "dims": 3,
    "spatial_upsample": True,
    "temporal_upsample": False,
    "spatial_scale": 2.0,
    "rational_resampler": False,
}


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


def _upscaler(path):
    rng = np.random.default_rng(1)
    tensors = {
        "initial_conv.weight": ("F32", rng.standard_normal((16, 8, 3, 3, 3)).astype(np.float32)),
        "initial_conv.bias": ("F32", rng.standard_normal((16,)).astype(np.float32)),
        "initial_norm.weight": ("F32", np.ones((16,), np.float32)),
        "upsampler.0.weight": ("F32", rng.standard_normal((64, 16, 3, 3)).astype(np.float32)),
    }
    return write_safetensors(path, tensors, {"config": json.dumps(UPSCALER_CONFIG)}), tensors


def _channels_last(key: str, value: np.ndarray) -> np.ndarray:
    return np.moveaxis(value, 1, -1) if value.ndim >= 3 else value


LATENT_UPSAMPLER = ComponentSpec(
    name="latent_upsampler",
    select=lambda key: key,
    to_mlx=_channels_last,
    source=UPSCALER,
    folder=lambda c: f"{'spatial' if c['spatial_upsample'] else 'temporal'}_upscaler_x{c['spatial_scale']:g}",
)


def test_upscaler_flat_config_and_layout_change(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "ltx2_av.safetensors", "ltx2_av")
    up, tensors = _upscaler(tmp_path / "ltx-2-spatial-upscaler-x2-1.0.safetensors")
    registry = Registry([*REGISTRY.specs(), LATENT_UPSAMPLER])
    report = convert([ckpt, up], tmp_path / "out", registry=registry)
    parsed = read_component(report.output / "spatial_upscaler_x2", "latent_upsampler")
    assert parsed.config == UPSCALER_CONFIG
    weights = load_weights(parsed)
    for key, (_, value) in tensors.items():
        np.testing.assert_array_equal(np.array(weights[key]), _channels_last(key, value), err_msg=key)
    assert weights["initial_conv.weight"].shape == (16, 3, 3, 3, 8)
    assert sorted(report.index["components"]) == ["spatial_upscaler_x2", "transformer"]


def test_upscaler_without_its_spec_is_reported(tmp_path) -> None:
    ckpt = golden_checkpoint(tmp_path / "ltx2_av.safetensors", "ltx2_av")
    up, _ = _upscaler(tmp_path / "up.safetensors")
    report = convert([ckpt, up], tmp_path / "out")
    assert report.index["not_converted"] == {
        "latent upsampler": "4 tensors of up.safetensors: latent upsampler conversion not available in this build"
    }
    with pytest.raises(ConversionError, match=r"nothing this build can convert: 4 tensors of up\.safetensors"):
        convert([up], tmp_path / "only")


def test_two_checkpoints_or_two_same_upscalers_are_refused(tmp_path) -> None:
    a = golden_checkpoint(tmp_path / "a.safetensors", "ltx2_av")
    b = golden_checkpoint(tmp_path / "b.safetensors", "ltx23_av", model_version="2.3.0")
    with pytest.raises(ConversionError, match=r"several model checkpoints \(a\.safetensors, b\.safetensors\)"):
        convert([a, b], tmp_path / "out")
    up1, _ = _upscaler(tmp_path / "up1.safetensors")
    up2, _ = _upscaler(tmp_path / "up2.safetensors")
    registry = Registry([*REGISTRY.specs(), LATENT_UPSAMPLER])
    with pytest.raises(ConversionError, match=r"up2\.safetensors and up1\.safetensors would both be written to"):
        convert([a, up1, up2], tmp_path / "out", registry=registry)
