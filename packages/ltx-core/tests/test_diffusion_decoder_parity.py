"""2.5 ``DiffusionVideoDecoder`` against the v1.2.0 reference's float64 goldens (family vae25), untiled and tiled.

Weights come from a file in the 2.5 checkpoint form (fused QKV, ``t_embedder.mlp``, static gates, dropped keys)
through ltx-convert's ``diffusion_decoder_weights``; the stage-5 noise is regenerated from the manifest's numpy
seed in the reference's draw order. Each case says its mode (``w_chunks`` 4 = chunked_eager, 1 = full volume).
Video and stored intermediates within 1e-4·max|ref|.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_map

from mlx_ltx_convert.layouts.video_vae import diffusion_decoder_weights
from mlx_ltx_core.model.video_vae.diffusion_decoder import DiffusionVideoDecoder, DiffusionVideoDecoderArgs
from mlx_ltx_core.model.video_vae.diffusion_tiled import DimensionSizeConfig, TileSizeConfig, decode_chunks

from ltx_testing import assert_parity, group, load, manifest
from vae_goldens import channels_last

REL = 1e-4
FAMILY = "vae25"
CASES = sorted((k, v) for k, v in manifest(FAMILY)["cases"].items() if k.startswith("diffusion_decoder"))


def build(info: dict) -> DiffusionVideoDecoder:
    decoder = DiffusionVideoDecoder(DiffusionVideoDecoderArgs.from_config(info["config"]["vae"]))
    weights = diffusion_decoder_weights(load(FAMILY, info["weights"]))  # float16 file: gates fold back to float16
    decoder.load_weights([(k, mx.array(v.astype(np.float32))) for k, v in weights.items()], strict=True)
    return decoder


def numpy_noise(info: dict):
    """The reference's torch.randn draws: numpy PCG64(seed) standard normals, float16-rounded, (B, C, F, H, W)."""
    rng = np.random.default_rng(info["noise"]["numpy_pcg64_seed"])
    shapes = [tuple(s) for s in info["noise"]["shapes_bcfhw"]]

    def generator(shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        b, f, h, w, c = shape
        expected = shapes.pop(0)
        assert expected == (b, c, f, h, w), f"noise draw {(b, c, f, h, w)} where the reference drew {expected}"
        value = rng.standard_normal(expected).astype(np.float16).astype(np.float32)
        return mx.array(np.moveaxis(value, 1, -1)).astype(dtype)

    return generator, shapes


@pytest.mark.parametrize(("name", "info"), CASES, ids=[c[0] for c in CASES])
def test_diffusion_decoder(name: str, info: dict) -> None:
    decoder = build(info)
    tensors = load(FAMILY, info["file"])
    latent = mx.array(channels_last(group(tensors, "inputs")["latent"].astype(np.float32)))
    generator, left = numpy_noise(info)
    ours: dict[str, mx.array] = {}
    if "tiling" in info:
        tiling = TileSizeConfig(*(DimensionSizeConfig(*axis) for axis in info["tiling"]))
        chunks = list(decode_chunks(decoder, latent, generator, info["w_chunks"], tiling, intermediates=ours))
        assert [c.shape[1] for c in chunks] == info["chunk_frames"]
        video = mx.concatenate(chunks, axis=1)
    else:
        video = decoder(latent, generator=generator, w_chunks=info["w_chunks"], intermediates=ours)
    assert not left, f"the reference drew noise {left} the port did not"
    assert_parity(video, channels_last(group(tensors, "outputs")["video"]), REL, f"{name} video")
    for key, value in group(tensors, "intermediates").items():
        assert_parity(ours[key], value, REL, f"{name} {key}")


def test_tiling_refuses_overlaps_below_the_halos() -> None:
    info = dict(CASES)["diffusion_decoder_tiled"]
    decoder = build(info)
    latent = mx.zeros((1, 2, 1, 1, 8))
    tiling = TileSizeConfig(height=DimensionSizeConfig(64, 16))
    with pytest.raises(ValueError, match="height overlap 16 is below the required 32"):
        list(decoder.tiled_decode(latent, tiling))


BF16_REL = 2e-2  # the bfloat16 bound; measured 0.6-1.4% of max|ref| over these cases at seed 0
BF16 = [c for c in CASES if c[1]["mode"] == "chunked_eager" and c[1]["config"]["vae"]["model_output_type"] == "x0"]


@pytest.mark.parametrize(("name", "info"), BF16, ids=[c[0] for c in BF16])
def test_bfloat16(name: str, info: dict) -> None:
    """bfloat16 end to end (the tiled case blends in the reference's float16 accumulator)."""
    decoder = build(info)
    decoder.update(tree_map(lambda p: p.astype(mx.bfloat16), decoder.parameters()))
    tensors = load(FAMILY, info["file"])
    latent = mx.array(channels_last(group(tensors, "inputs")["latent"].astype(np.float32))).astype(mx.bfloat16)
    generator, _ = numpy_noise(info)
    tiling = TileSizeConfig(*(DimensionSizeConfig(*a) for a in info["tiling"])) if "tiling" in info else None
    video = mx.concatenate(list(decode_chunks(decoder, latent, generator, info["w_chunks"], tiling)), axis=1)
    assert video.dtype == mx.bfloat16
    assert_parity(video.astype(mx.float32), channels_last(group(tensors, "outputs")["video"]), BF16_REL, name)
