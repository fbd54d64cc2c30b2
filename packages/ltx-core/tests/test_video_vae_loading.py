"""Video VAE component folders and checkpoint conversion: strict round trips, lazy loading, quantized time embedders."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentError, read_component, save_component
from mlx_ltx_core.model.video_vae import (
    load_video_decoder,
    load_video_encoder,
    random_noise,
    save_video_vae_component,
)

import vae_goldens as vg

ENCODER = dict(vg.cases("video_encoder"))["video_encoder_ltx2"]
DECODER = dict(vg.cases("video_decoder"))["video_decoder_ltx2"]
TCOND = dict(vg.cases("video_decoder"))["video_decoder_tcond"]


def _latent(shape: tuple[int, ...]) -> mx.array:
    return mx.random.normal(shape, key=mx.random.key(0))


@pytest.fixture(scope="module")
def decoder_folder(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("model") / "video_decoder"
    return save_video_vae_component(path, vg.build(DECODER, "video_decoder"), DECODER["config"]["vae"])


def test_decoder_round_trip_is_exact(decoder_folder) -> None:
    parsed = read_component(decoder_folder, "video_decoder")
    assert parsed.config == DECODER["config"]["vae"]  # config["vae"] verbatim
    latent = _latent((1, 2, 2, 2, 4))
    np.testing.assert_array_equal(
        np.array(load_video_decoder(decoder_folder)(latent)), np.array(vg.build(DECODER, "video_decoder")(latent))
    )


def test_encoder_round_trip_is_exact(tmp_path) -> None:
    model = vg.build(ENCODER, "video_encoder")
    folder = save_video_vae_component(tmp_path / "video_encoder", model, ENCODER["config"]["vae"])
    video = mx.random.uniform(-1, 1, (1, 9, 32, 64, 3), key=mx.random.key(1))
    np.testing.assert_array_equal(np.array(load_video_encoder(folder)(video)), np.array(model(video)))
    with pytest.raises(ComponentError, match="holds a 'video_encoder' component, expected 'video_decoder'"):
        load_video_decoder(folder)


def test_lazy_load_reads_nothing_until_used(decoder_folder) -> None:
    mx.clear_cache()
    before = mx.get_active_memory()
    model = load_video_decoder(decoder_folder, lazy=True)
    assert mx.get_active_memory() == before
    mx.eval(model(_latent((1, 1, 2, 2, 4))))


@pytest.mark.parametrize(("edit", "message"), [("drop", "missing keys"), ("add", "unexpected keys")])
def test_strict_loading_names_the_keys(decoder_folder, tmp_path, edit: str, message: str) -> None:
    parsed = read_component(decoder_folder)
    weights = dict(mx.load(str(decoder_folder / "model.safetensors")))
    if edit == "drop":
        weights.pop("up_blocks.1.conv.conv.weight")
        expected = "up_blocks.1.conv.conv.weight"
    else:
        weights["per_channel_statistics.channel"] = mx.zeros((4,))
        expected = "per_channel_statistics.channel"
    save_component(tmp_path / "edited", "video_decoder", parsed.config, weights)
    with pytest.raises(ComponentError, match=f"{message} \\[{expected}"):
        load_video_decoder(tmp_path / "edited")


def test_quantized_time_embedders_round_trip(tmp_path) -> None:
    """Only Linear layers quantize (the time embedders of a timestep-conditioned decoder); convolutions stay float."""
    model = vg.build(TCOND, "video_decoder")
    nn.quantize(model, 64, 8, class_predicate=lambda _p, m: isinstance(m, nn.Linear) and m.weight.shape[1] % 64 == 0)
    quantized = [k for k, _ in tree_flatten(model.parameters()) if k.endswith(".scales")]
    assert quantized
    assert all("time_embedder" in k for k in quantized)
    quant = {"group_size": 64, "bits": 8, "mode": "affine"}
    folder = save_video_vae_component(tmp_path / "video_decoder", model, TCOND["config"]["vae"], quantization=quant)
    latent = _latent((1, 2, 2, 3, 4))
    loaded = load_video_decoder(folder)
    np.testing.assert_array_equal(
        np.array(loaded(latent, generator=random_noise(3))), np.array(model(latent, generator=random_noise(3)))
    )
