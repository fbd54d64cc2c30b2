"""Classifying input files from their headers: kind, config, model version; refusals with one line each."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.safetensors_io import read_header
from mlx_ltx_convert.sources import CHECKPOINT, LORA, UPSCALER, classify, model_family

from lightricks_files import write_safetensors

ONE = ("F32", np.ones((2,), np.float32))


def _file(tmp_path, name: str, metadata: dict, keys: tuple[str, ...] = ("model.diffusion_model.proj_out.bias",)):
    return read_header(write_safetensors(tmp_path / name, dict.fromkeys(keys, ONE), metadata))


@pytest.mark.parametrize(
    ("version", "family"),
    [
        ("2.0.0", "ltx-2"),
        ("2.0", "ltx-2"),
        ("2", "ltx-2"),
        ("2.3.0", "ltx-2.3"),
        ("2.3", "ltx-2.3"),
        ("v2.3.1", "ltx-2.3"),
    ],
)
def test_known_model_versions(version: str, family: str) -> None:
    assert model_family(version) == family


@pytest.mark.parametrize("version", ["2.6.0", "0.9.8", "tiny-test", ""])
def test_unknown_model_versions_are_refused(version: str) -> None:
    with pytest.raises(ConversionError, match=rf"x\.safetensors: unknown model version {version!r}"):
        model_family(version, "x.safetensors")


def test_checkpoint_with_and_without_version(tmp_path) -> None:
    config = {"transformer": {"cross_attention_adaln": True}, "vae": {}}
    source = classify(_file(tmp_path, "a.safetensors", {"config": json.dumps(config), "model_version": "2.3.0"}))
    assert (source.kind, source.model_version, source.family, source.config) == (CHECKPOINT, "2.3.0", "ltx-2.3", config)
    # Without model_version the transformer config tells the family (LTX-2.3 adds cross_attention_adaln).
    assert classify(_file(tmp_path, "b.safetensors", {"config": json.dumps(config)})).family == "ltx-2.3"
    plain = {"transformer": {"cross_attention_adaln": False}}
    assert classify(_file(tmp_path, "c.safetensors", {"config": json.dumps(plain)})).family == "ltx-2"


def test_upscaler_and_lora_files(tmp_path) -> None:
    up = {"_class_name": "LatentUpsampler", "mid_channels": 32}
    source = classify(_file(tmp_path, "up.safetensors", {"config": json.dumps(up)}, ("initial_conv.weight",)))
    assert (source.kind, source.config, source.family) == (UPSCALER, up, None)
    lora_keys = ("diffusion_model.transformer_blocks.0.attn1.to_q.lora_A.weight",)
    lora = classify(_file(tmp_path, "l.safetensors", {"reference_downscale_factor": "2"}, lora_keys))
    assert (lora.kind, lora.config) == (LORA, {"reference_downscale_factor": "2"})


def test_files_without_ltx_metadata_are_refused(tmp_path) -> None:
    with pytest.raises(ConversionError, match=r"plain\.safetensors: no LTX metadata \(__metadata__\['config'\]\)"):
        classify(_file(tmp_path, "plain.safetensors", {"format": "pt"}))
    with pytest.raises(ConversionError, match="metadata config has none of"):
        classify(_file(tmp_path, "other.safetensors", {"config": json.dumps({"unet": {}})}))
    with pytest.raises(ConversionError, match="is not JSON"):
        classify(_file(tmp_path, "bad.safetensors", {"config": "{nope"}))


def test_a_text_encoder_file_is_recognised_by_its_gemma_config(tmp_path) -> None:
    """LTX-2.5's text-encoder file carries no ``config``, only the Gemma's: its own kind, no model family."""
    from mlx_ltx_convert.sources import TEXT_ENCODER

    gemma = {"model_type": "gemma4_unified", "gemma_version": "gemma4-12b-ltx-v1", "text_config": {}}
    source = classify(_file(tmp_path, "te.safetensors", {"gemma_config": json.dumps(gemma)}, ("model.norm.weight",)))
    assert (source.kind, source.config, source.family) == (TEXT_ENCODER, {TEXT_ENCODER: gemma}, None)


def test_the_duration_head_file_names_no_family(tmp_path) -> None:
    """Its config holds the connector widths only: not a transformer config to tell LTX-2 from 2.3 by."""
    config = {"transformer": {"cross_attention_dim": 4096, "audio_cross_attention_dim": 2048}}
    source = classify(
        _file(tmp_path, "dh.safetensors", {"config": json.dumps(config)}, ("duration_head.mlp_out.bias",))
    )
    assert (source.kind, source.family) == (CHECKPOINT, None)
