"""Every non-transformer golden → a single-file Lightricks checkpoint → ltx-convert → the package's own loader →
the reference's float64 outputs, within each family's parity tolerance (1e-4·max|ref|).

The transformer and the upsamplers have the same round trip in packages/ltx-convert/tests; this covers the video
VAE, audio VAE, vocoders and text projection, whose loaders live in packages ltx-convert must not import.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_audio.loader import load_audio_decoder, load_audio_encoder, load_vocoder
from mlx_ltx_convert.components import COMPONENTS, ComponentSpec
from mlx_ltx_convert.convert import convert
from mlx_ltx_core.model.video_vae import load_video_decoder, load_video_encoder
from mlx_ltx_text.loading import load_text_projection

import vae_goldens as vg
from lightricks_files import write_safetensors
from ltx_testing import assert_parity, goldens_root, group, load, manifest

REL = 1e-4
VIDEO = [(n, i) for n, i in vg.cases("video_") if "tiled" not in n]  # tiled cases reuse the untiled weights
AUDIO = sorted(c for c in manifest("audio")["cases"] if c != "mel_frontend")
TEXT = sorted(c for c in manifest("text")["cases"] if c.startswith("text_connector_"))


def _convert(tmp_path: Path, tensors: dict, config: dict, components: tuple[ComponentSpec, ...] = COMPONENTS) -> Path:
    metadata = {"config": json.dumps(config), "model_version": "2.0.0"}
    checkpoint = write_safetensors(tmp_path / "ltx-2-19b-dev.safetensors", tensors, metadata)
    return convert([checkpoint], tmp_path / "model", components=components).output


def _components_for_gemma(hidden_size: int, num_hidden_layers: int) -> tuple[ComponentSpec, ...]:
    """The converter's specs, recording a tiny Gemma's size for the text projection (real checkpoints belong to
    Gemma 3 12B, the default the converter checks shapes against)."""
    gemma = {"gemma": {"hidden_size": hidden_size, "num_hidden_layers": num_hidden_layers}}
    return tuple(
        dataclasses.replace(s, info=lambda _config, _keys: gemma) if s.name == "text_projection" else s
        for s in COMPONENTS
    )


def _f32(weights: dict[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    return {k: ("F32", v.astype(np.float32)) for k, v in weights.items()}


def _audio_channels_last(x: np.ndarray) -> np.ndarray:
    """PyTorch (B, C, T, F) → (B, T, F, C); (B, C, L) → (B, L, C)."""
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x.transpose(0, 2, 1)


@pytest.mark.parametrize(("name", "info"), VIDEO, ids=[n for n, _ in VIDEO])
def test_video_vae(tmp_path: Path, name: str, info: dict) -> None:
    folder = _convert(tmp_path, _f32(vg.checkpoint(info)), info["config"])
    inputs, ref = vg.tensors(name, info, "inputs"), vg.tensors(name, info, "outputs")
    if name.startswith("video_encoder"):
        out = load_video_encoder(folder / "video_encoder")(mx.array(inputs["video"]))
        assert_parity(out, ref["latent"], REL, f"{name} latent")
        return
    decoder = load_video_decoder(folder / "video_decoder")
    noise = [mx.array(inputs[k]) for k in sorted(inputs) if k.startswith("noise.")]
    generator = (lambda shape, dtype: noise.pop(0).astype(dtype)) if decoder.timestep_conditioning else None
    assert_parity(decoder(mx.array(inputs["latent"]), generator=generator), ref["video"], REL, f"{name} video")


@pytest.mark.parametrize("case", AUDIO)
def test_audio(tmp_path: Path, case: str) -> None:
    info = manifest("audio")["cases"][case]
    tensors = load("audio", info["file"])
    folder = _convert(tmp_path, _f32(group(tensors, "weights")), info["config"])
    ref = {k: _audio_channels_last(v) for k, v in group(tensors, "outputs_f64").items()}
    if case == "audio_encoder":  # the golden mel in, the latent out (the mel front-end has its own parity test)
        out, expected = load_audio_encoder(folder / "audio_encoder")(mx.array(ref["mel_16k"])), ref["latent_16k"]
    else:
        (x,) = group(tensors, "inputs").values()
        model = (
            load_audio_decoder(folder / "audio_decoder")
            if case == "audio_decoder"
            else load_vocoder(folder / "vocoder")
        )
        (expected,) = ref.values()
        out = model(mx.array(_audio_channels_last(x).astype(np.float32)))
    assert_parity(out, expected, REL, case)


@pytest.mark.parametrize("case", TEXT)
def test_text_projection(tmp_path: Path, case: str) -> None:
    info = manifest("text")["cases"][case]
    weights = mx.load(str(goldens_root() / "text" / info["weights"]))
    tensors = {k: ("BF16", np.array(v.view(mx.uint16))) for k, v in weights.items()}
    dims = (info["gemma"]["hidden_size"], info["gemma"]["num_hidden_states"] - 1)
    folder = _convert(tmp_path, tensors, {"transformer": info["transformer_config"]}, _components_for_gemma(*dims))
    model = load_text_projection(folder / "text_projection", dtype=mx.float32)  # the Gemma size is recorded
    inputs, ref = group(load("text", info["file"]), "inputs"), group(load("text", info["file"]), "outputs_f64")
    valid, mask = inputs["hidden_states_valid_BTDL"], inputs["attention_mask"]
    hidden = np.zeros((*mask.shape, *valid.shape[2:]), np.float32)
    hidden[:, mask.shape[1] - valid.shape[1] :] = valid
    out = model(mx.array(hidden), mx.array(mask.astype(np.int32)))
    assert_parity(out.video_encoding, ref["video_encoding"], REL, f"{case} video")
    assert_parity(out.audio_encoding, ref["audio_encoding"], REL, f"{case} audio")
