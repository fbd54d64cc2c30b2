"""Component folders written from the golden weights (checkpoint keys -> convert -> save_component) load strictly."""

from __future__ import annotations

from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_audio import load_audio_decoder, load_audio_encoder, load_vocoder
from mlx_ltx_audio.bigvgan import hann_sinc_filter1d, kaiser_sinc_filter1d
from mlx_ltx_convert.layouts.audio import component_key, torch_to_mlx
from mlx_ltx_core.loader import ComponentError, save_component

from ltx_testing import group

LOADERS = {"audio_encoder": load_audio_encoder, "audio_decoder": load_audio_decoder, "vocoder": load_vocoder}
CASES = ["audio_encoder", "audio_decoder", "vocoder_hifigan", "vocoder_bwe"]


def write_folder(goldens, case: str, path: Path, weights: dict[str, mx.array] | None = None) -> Path:
    info, _ = goldens.case(case)
    component = goldens.component_of(case)
    config = info["config"]["vocoder" if component == "vocoder" else "audio_vae"]
    return save_component(path, component, config, weights if weights is not None else goldens.mlx_weights(case))


def golden_input(goldens, case: str) -> mx.array:
    _, tensors = goldens.case(case)
    x = next(iter(group(tensors, "inputs").values()))
    if case == "audio_encoder":
        x = group(tensors, "outputs_f64")["mel_16k"].astype(np.float32)
    return mx.array(goldens.channels_last(x))


@pytest.mark.parametrize("case", CASES)
def test_load_component(goldens, tmp_path: Path, case: str) -> None:
    path = write_folder(goldens, case, tmp_path / case)
    model = LOADERS[goldens.component_of(case)](path)
    x = golden_input(goldens, case)
    assert mx.array_equal(model(x), goldens.model(case)(x))


@pytest.mark.parametrize("case", ["audio_decoder", "vocoder_bwe"])
def test_strict_keys(goldens, tmp_path: Path, case: str) -> None:
    weights = goldens.mlx_weights(case)
    dropped = sorted(weights)[0]
    missing = {k: v for k, v in weights.items() if k != dropped}
    load = LOADERS[goldens.component_of(case)]
    with pytest.raises(ComponentError, match=f"missing keys \\[{dropped}"):
        load(write_folder(goldens, case, tmp_path / "missing", missing))
    with pytest.raises(ComponentError, match=r"unexpected keys \[extra.weight"):
        load(write_folder(goldens, case, tmp_path / "extra", {**weights, "extra.weight": mx.zeros((1,))}))


def test_vocoder_loads_in_float32(goldens, tmp_path: Path) -> None:
    weights = {k: v.astype(mx.bfloat16) for k, v in goldens.mlx_weights("vocoder_bwe").items()}
    model = load_vocoder(write_folder(goldens, "vocoder_bwe", tmp_path / "bf16", weights))
    assert {v.dtype for _, v in tree_flatten(model.parameters())} == {mx.float32}


def test_dtype_cast_for_vae(goldens, tmp_path: Path) -> None:
    model = load_audio_decoder(write_folder(goldens, "audio_decoder", tmp_path / "dec"), dtype=mx.bfloat16)
    assert model.conv_in.conv.weight.dtype == mx.bfloat16


def test_kaiser_filters_match_checkpoint_buffers(goldens) -> None:
    """The anti-aliasing filters computed in code equal the reference's persistent buffers."""
    info, tensors = goldens.case("vocoder_bwe")
    filters = {k: v for k, v in group(tensors, "weights").items() if k.endswith("filter")}
    gens = info["config"]["vocoder"].values()
    # per generator: 6 activations per AMP block, one block per (stage, kernel), plus act_post; each up + down
    assert len(filters) == 2 * sum(len(g["upsample_rates"]) * len(g["resblock_kernel_sizes"]) * 6 + 1 for g in gens)
    computed = kaiser_sinc_filter1d(0.25, 0.3, 12)
    for key, value in filters.items():
        np.testing.assert_allclose(value.reshape(-1), computed, atol=1e-7, err_msg=key)
        name = component_key("vocoder", key)
        assert torch_to_mlx("vocoder", name, value).shape == (12,)
    with pytest.raises(ValueError, match="Kaiser-sinc"):
        torch_to_mlx("vocoder", "vocoder.act_post.upsample.filter", np.ones((1, 1, 12), np.float32) / 12)


def test_hann_filter_matches_reference(goldens) -> None:
    info, _ = goldens.case("vocoder_bwe")
    ratio = (
        info["config"]["vocoder"]["bwe"]["output_sampling_rate"]
        // info["config"]["vocoder"]["bwe"]["input_sampling_rate"]
    )
    np.testing.assert_allclose(hann_sinc_filter1d(ratio), info["resampler_filter"], atol=1e-7)
