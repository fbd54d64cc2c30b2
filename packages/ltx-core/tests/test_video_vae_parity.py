"""Video VAE parity against the reference's float64 goldens, every case of the manifest (LTX_GOLDENS).

float32 runs; outputs and every stored intermediate within 1e-4·max|ref|. Tiled decodes must also yield the
reference's number and sizes of chunks and use its tile plan.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_map

from mlx_ltx_core.model.video_vae import SpatialTilingConfig, TemporalTilingConfig, TilingConfig
from mlx_ltx_core.model.video_vae.tiled import group_tiles_by_temporal_slice, prepare_tiles_for_decoding

import vae_goldens as vg
from ltx_testing import assert_parity

REL = 1e-4
# bfloat16 end to end: measured 0.5% to 6% of max|ref| over seeds 0-2 (8-bit mantissas through ~20 convolutions).
BF16_REL = 1e-1
ENCODERS = vg.cases("video_encoder")
DECODERS = vg.cases("video_decoder")


def _tiling(info: dict, key: str = "tiling") -> TilingConfig:
    spatial, temporal = info[key]["spatial"], info[key]["temporal"]
    return TilingConfig(
        SpatialTilingConfig(*spatial) if spatial else None, TemporalTilingConfig(*temporal) if temporal else None
    )


def _recorded_noise(inputs: dict[str, np.ndarray]):
    """A NoiseGenerator replaying the reference's torch.randn draws (latent-shaped ones already channels-last)."""
    draws = [inputs[f"noise.{i}"] for i in range(sum(k.startswith("noise.") for k in inputs))]

    def generator(shape: tuple[int, ...], dtype: mx.Dtype) -> mx.array:
        value = draws.pop(0)
        assert value.shape == tuple(shape), f"noise draw {value.shape} where the port asks for {tuple(shape)}"
        return mx.array(value).astype(dtype)

    return generator


@pytest.mark.parametrize(("name", "info"), ENCODERS, ids=[c[0] for c in ENCODERS])
def test_encoder(name: str, info: dict) -> None:
    encoder = vg.build(info, "video_encoder")
    video = mx.array(vg.tensors(name, info, "inputs")["video"])
    ref, ref_inter = vg.tensors(name, info, "outputs"), vg.tensors(name, info, "intermediates")
    ours: dict[str, mx.array] = {}
    tiled = "tiling" in info
    latent = encoder.tiled_encode(video, _tiling(info)) if tiled else encoder(video, intermediates=ours)
    assert_parity(latent, ref["latent"], REL, f"{name} latent")
    assert set(ref_inter) <= set(ours), f"intermediates not produced: {sorted(set(ref_inter) - set(ours))}"
    for key, value in ref_inter.items():
        assert_parity(ours[key], value, REL, f"{name} {key}")


@pytest.mark.parametrize(("name", "info"), DECODERS, ids=[c[0] for c in DECODERS])
def test_decoder(name: str, info: dict) -> None:
    decoder = vg.build(info, "video_decoder")
    inputs = vg.tensors(name, info, "inputs")
    latent = mx.array(inputs["latent"])
    generator = _recorded_noise(inputs) if decoder.timestep_conditioning else None
    ref, ref_inter = vg.tensors(name, info, "outputs"), vg.tensors(name, info, "intermediates")
    ours: dict[str, mx.array] = {}
    if "tiling" in info:
        chunks = list(decoder.tiled_decode(latent, _tiling(info), generator=generator))
        assert [c.shape[1] for c in chunks] == info["chunk_frames"]
        video = mx.concatenate(chunks, axis=1)
    else:
        video = decoder(latent, generator=generator, intermediates=ours)
    assert_parity(video, ref["video"], REL, f"{name} video")
    assert set(ref_inter) <= set(ours), f"intermediates not produced: {sorted(set(ref_inter) - set(ours))}"
    for key, value in ref_inter.items():
        assert_parity(ours[key], value, REL, f"{name} {key}")


TILED = [c for c in DECODERS if "tiling" in c[1]]


@pytest.mark.parametrize(("name", "info"), TILED, ids=[c[0] for c in TILED])
def test_tile_plan_matches_reference(name: str, info: dict) -> None:
    """Latent-in and video-out intervals of every tile, in the reference's order (spatial-only: see the note)."""
    _, f, h, w, _ = vg.tensors(name, info, "inputs")["latent"].shape
    tiles = prepare_tiles_for_decoding((f, h, w), _tiling(info))
    video_size = (8 * (f - 1) + 1, 32 * h, 32 * w)

    def iv(s: slice, n: int) -> list[int]:
        return [s.start or 0, n if s.stop is None else s.stop]

    ours = [
        {"in": [iv(s, n) for s, n in zip(t.in_coords, (f, h, w), strict=True)],
         "out": [iv(s, n) for s, n in zip(t.out_coords, video_size, strict=True)]}
        for t in tiles
    ]  # fmt: skip
    # The manifest writes an open end (the whole axis) as -1.
    ref = [
        {"in": t["in"], "out": [[o[0], n] if o[1] == -1 else o for o, n in zip(t["out"], video_size, strict=True)]}
        for t in info["tiles"]
    ]
    assert ours == ref
    assert len(group_tiles_by_temporal_slice(tiles)) == len(info["chunk_frames"])


UNTILED = [c for c in ENCODERS + DECODERS if "tiling" not in c[1]]


@pytest.mark.parametrize(("name", "info"), UNTILED, ids=[c[0] for c in UNTILED])
def test_bfloat16(name: str, info: dict) -> None:
    component = "video_encoder" if "encoder" in name else "video_decoder"
    model = vg.build(info, component)
    model.update(tree_map(lambda p: p.astype(mx.bfloat16), model.parameters()))
    inputs = vg.tensors(name, info, "inputs")
    if component == "video_encoder":
        out, ref = model(mx.array(inputs["video"]).astype(mx.bfloat16)), vg.tensors(name, info, "outputs")["latent"]
    else:
        generator = _recorded_noise(inputs) if model.timestep_conditioning else None
        out = model(mx.array(inputs["latent"]).astype(mx.bfloat16), generator=generator)
        ref = vg.tensors(name, info, "outputs")["video"]
    assert out.dtype == mx.bfloat16
    assert_parity(out.astype(mx.float32), ref, BF16_REL, f"{name} (bf16)")
