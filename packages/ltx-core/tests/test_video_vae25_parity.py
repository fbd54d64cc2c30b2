"""2.5 video VAE conv parts against the v1.2.0 reference's float64 goldens (family vae25): the encoder from the nested
``CausalDiffusionVAE`` config (constant log-variance, "attn" block) and ``ConvVideoDecoder`` (derived bottleneck,
"attn" block). Outputs and every stored intermediate within 1e-4·max|ref|."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_convert.layouts.video_vae import component_key, torch_to_mlx
from mlx_ltx_core.model.video_vae import VideoDecoder, VideoDecoderArgs, VideoEncoder, VideoEncoderArgs

from ltx_testing import assert_parity, group, load, manifest
from vae_goldens import channels_last

REL = 1e-4
FAMILY = "vae25"
CASES = sorted((k, v) for k, v in manifest(FAMILY)["cases"].items() if k.startswith(("video_encoder", "conv_decoder")))


def _build(info: dict):
    encoder = "encoder" in info["constructor"].lower()
    component = "video_encoder" if encoder else "video_decoder"
    config = info["config"]["vae"]
    model = (
        VideoEncoder(VideoEncoderArgs.from_dict(config))
        if encoder
        else VideoDecoder(VideoDecoderArgs.from_dict(config))
    )
    weights = []
    for key, value in group(load(FAMILY, info["file"]), "weights").items():
        if (name := component_key(component, key)) is not None:
            weights.append((name, mx.array(torch_to_mlx(name, value.astype(np.float32)))))
    model.load_weights(weights, strict=True)
    return model


@pytest.mark.parametrize(("name", "info"), CASES, ids=[c[0] for c in CASES])
def test_conv_vae_25(name: str, info: dict) -> None:
    model = _build(info)
    tensors = load(FAMILY, info["file"])
    (x,) = (channels_last(v).astype(np.float32) for v in group(tensors, "inputs").values())
    ours: dict[str, mx.array] = {}
    out = model(mx.array(x), intermediates=ours)
    (ref,) = group(tensors, "outputs").values()
    assert_parity(out, channels_last(ref), REL, f"{name} output")
    inter = group(tensors, "intermediates")
    assert inter and set(inter) <= set(ours), f"intermediates not produced: {sorted(set(inter) - set(ours))}"
    for key, value in inter.items():
        assert_parity(ours[key], channels_last(value), REL, f"{name} {key}")


def test_encoder_args_nested_25_config() -> None:
    args = VideoEncoderArgs.from_dict(dict(manifest(FAMILY)["cases"]["video_encoder_25"]["config"]["vae"]))
    assert (args.latent_channels, args.latent_log_var, args.blocks[2][0]) == (4, "constant", "attn")
    with pytest.raises(ValueError, match="latent_log_var"):
        VideoEncoderArgs(encoder_blocks=[], latent_log_var="per_channel")


def test_25_temporal_upscaler_config_builds_with_its_72_tensors() -> None:
    """The 2.5 temporal upscaler (fact sheet §6; rational_resampler is ignored without spatial upsampling)."""
    from mlx.utils import tree_flatten

    from mlx_ltx_core.model.upsampler import LatentUpsampler, LatentUpsamplerArgs

    config = {
        "in_channels": 128, "mid_channels": 512, "num_blocks_per_stage": 4, "dims": 3, "spatial_upsample": False,
        "temporal_upsample": True, "spatial_scale": 1.0, "rational_resampler": True,
    }  # fmt: skip
    model = LatentUpsampler(LatentUpsamplerArgs.from_dict(config))
    shapes = dict(tree_flatten(model.parameters()))
    assert len(shapes) == 72
    assert shapes["upsampler.0.weight"].shape == (1024, 3, 3, 3, 512)
