"""Latent upsamplers: parity with the reference's float64 goldens (every upsampler case of LTX_GOLDENS), config
checks, and "upsampler" component folders."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_map

from mlx_ltx_convert.layouts.upsampler import folder_name
from mlx_ltx_core.loader import ComponentError
from mlx_ltx_core.model.upsampler import (
    LatentUpsampler,
    LatentUpsamplerArgs,
    load_latent_upsampler,
    save_latent_upsampler,
    upsample_video,
)
from mlx_ltx_core.model.video_vae import PerChannelStatistics

import vae_goldens as vg
from ltx_testing import assert_parity

REL = 1e-4
CASES = vg.cases("upsampler")


class _Stats:
    """Anything holding ``per_channel_statistics`` will do for ``upsample_video`` (encoder, decoder, …)."""

    def __init__(self, inputs: dict[str, np.ndarray]):
        self.per_channel_statistics = PerChannelStatistics(inputs["latent"].shape[-1])
        for key in ("mean-of-means", "std-of-means"):
            self.per_channel_statistics[key] = mx.array(inputs[key])


@pytest.mark.parametrize(("name", "info"), CASES, ids=[c[0] for c in CASES])
def test_parity(name: str, info: dict) -> None:
    model = vg.build(info, "upsampler")
    inputs = vg.tensors(name, info, "inputs")
    ref, ref_inter = vg.tensors(name, info, "outputs"), vg.tensors(name, info, "intermediates")
    latent = mx.array(inputs["latent"])
    ours: dict[str, mx.array] = {}
    assert_parity(model(latent, intermediates=ours), ref["latent_up"], REL, f"{name} latent_up")
    assert_parity(upsample_video(latent, _Stats(inputs), model), ref["upsample_video"], REL, f"{name} upsample_video")
    assert set(ref_inter) <= set(ours), f"intermediates not produced: {sorted(set(ref_inter) - set(ours))}"
    for key, value in ref_inter.items():
        assert_parity(vg.frames_flat(ours[key], value), value, REL, f"{name} {key}")


@pytest.mark.parametrize(("name", "info"), CASES, ids=[c[0] for c in CASES])
def test_bfloat16(name: str, info: dict) -> None:
    """Measured 1% to 2% of max|ref| over seeds 0-2."""
    model = vg.build(info, "upsampler")
    model.update(tree_map(lambda p: p.astype(mx.bfloat16), model.parameters()))
    out = model(mx.array(vg.tensors(name, info, "inputs")["latent"]).astype(mx.bfloat16))
    assert out.dtype == mx.bfloat16
    assert_parity(out.astype(mx.float32), vg.tensors(name, info, "outputs")["latent_up"], 5e-2, f"{name} (bf16)")


def test_output_shapes_of_each_variant() -> None:
    shapes = {name: tuple(vg.tensors(name, info, "outputs")["latent_up"].shape) for name, info in CASES}
    assert shapes["upsampler_spatial_x2"] == (1, 2, 6, 8, 4)
    assert shapes["upsampler_spatial_x2_rational"] == (1, 2, 6, 8, 4)
    assert shapes["upsampler_spatial_x1_5"] == (1, 2, 5, 6, 4)  # 3 -> 9 -> blur stride 2 -> 5
    assert shapes["upsampler_temporal_x2"] == (1, 3, 3, 4, 4)  # 2F - 1


def test_blur_kernel_is_the_normalised_binomial() -> None:
    model = LatentUpsampler(
        LatentUpsamplerArgs(
            in_channels=4, mid_channels=32, num_blocks_per_stage=0, spatial_scale=1.5, rational_resampler=True
        )
    )
    k = np.array([1, 4, 6, 4, 1], np.float32)
    np.testing.assert_allclose(np.array(model.upsampler.blur_down.kernel)[0, :, :, 0], np.outer(k, k) / 256)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"dims": 2}, "dims=2"),
        ({"spatial_upsample": True, "temporal_upsample": True}, "exactly one"),
        ({"spatial_upsample": False, "temporal_upsample": False}, "exactly one"),
        ({"rational_resampler": True, "spatial_scale": 3.0}, "spatial_scale=3.0"),
        ({"mid_channels": 48}, "mid_channels=48"),
    ],
)
def test_unsupported_config_is_one_error(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LatentUpsamplerArgs.from_dict({"in_channels": 4, "mid_channels": 32, **config})


def test_defaults_are_the_configurators() -> None:
    args = LatentUpsamplerArgs.from_dict({"_class_name": "LatentUpsampler"})
    assert (args.in_channels, args.mid_channels, args.num_blocks_per_stage, args.dims) == (128, 512, 4, 3)
    assert (args.spatial_upsample, args.temporal_upsample, args.spatial_scale, args.rational_resampler) == (
        True,
        False,
        2.0,
        False,
    )


def test_component_folder_round_trip_and_strictness(tmp_path) -> None:
    name, info = "upsampler_spatial_x2", dict(CASES)["upsampler_spatial_x2"]
    model = vg.build(info, "upsampler")
    folder = save_latent_upsampler(tmp_path / folder_name(info["config"]), model, info["config"])
    assert folder.name == "spatial_upscaler_x2"
    latent = mx.array(vg.tensors(name, info, "inputs")["latent"])
    np.testing.assert_array_equal(np.array(load_latent_upsampler(folder)(latent)), np.array(model(latent)))
    # The plain x2 weights under a rational x2 config: upsampler.conv.* / blur_down.kernel missing, upsampler.0.*
    # unexpected, both named in one error.
    rational = dict(CASES)["upsampler_spatial_x2_rational"]
    save_latent_upsampler(tmp_path / "mismatch", model, rational["config"])
    with pytest.raises(
        ComponentError, match=r"missing keys \[upsampler.blur_down.kernel.*unexpected keys \[upsampler.0"
    ):
        load_latent_upsampler(tmp_path / "mismatch")


def test_folder_names() -> None:
    names = {case: folder_name(info["config"]) for case, info in CASES}
    assert names == {
        "upsampler_spatial_x1_5": "spatial_upscaler_x1.5",
        "upsampler_spatial_x2": "spatial_upscaler_x2",
        "upsampler_spatial_x2_rational": "spatial_upscaler_x2",
        "upsampler_temporal_x2": "temporal_upscaler_x2",
    }
