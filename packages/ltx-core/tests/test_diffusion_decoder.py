"""Diffusion decoder config, geometry, memory estimate and auto tiling (no goldens: shapes and rules)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_convert.layouts.video_vae import diffusion_decoder_weights
from mlx_ltx_core.model.video_vae.diffusion_decoder import (
    REAL_DIFFUSION_DECODER_CONFIG,
    DiffusionVideoDecoder,
    DiffusionVideoDecoderArgs,
)
from mlx_ltx_core.model.video_vae.diffusion_presets import auto_tiling, estimate_peak_bytes
from mlx_ltx_core.model.video_vae.diffusion_tiled import split_by_size, trapezoid


@pytest.fixture(scope="module")
def real_decoder() -> DiffusionVideoDecoder:
    """The shipped 2.5 structure, parameters never evaluated (lazy zeros / randoms are not materialised)."""
    return DiffusionVideoDecoder(DiffusionVideoDecoderArgs.from_config(REAL_DIFFUSION_DECODER_CONFIG))


def test_real_config_geometry(real_decoder: DiffusionVideoDecoder) -> None:
    args = real_decoder.args
    assert (args.stage5_width, args.t_emb_dim, args.model_output_type) == (256, 384, "x0")
    assert real_decoder.stage_min_tile_sizes == (3, 7, 7)
    assert real_decoder.tile_halos == ((2, 4, 4), (20, 20, 20))
    assert real_decoder.tile_min_sizes == (6, 6, 6)
    assert real_decoder.ghost_latent_frames == 2
    assert real_decoder.timesteps() == [1.0]


def test_auto_tiling_real_width_fits_budget(real_decoder: DiffusionVideoDecoder) -> None:
    tiling = auto_tiling(real_decoder, 121, 1024, 1536, budget_bytes=24 << 30)
    assert (tiling.frames.overlap, tiling.height.overlap, tiling.width.overlap) == (40, 160, 160)
    assert tiling.frames.tile_size >= 80 and tiling.height.tile_size >= 320 and tiling.width.tile_size >= 320
    tile = (tiling.frames.tile_size, tiling.height.tile_size, tiling.width.tile_size)
    assert estimate_peak_bytes(real_decoder, 121, 1024, 1536, tile) < (24 << 30) - (2 << 30)
    assert estimate_peak_bytes(real_decoder, 121, 1024, 1536) > estimate_peak_bytes(real_decoder, 121, 1024, 1536, tile)


def test_auto_tiling_too_small_budget_is_one_line(real_decoder: DiffusionVideoDecoder) -> None:
    with pytest.raises(ValueError, match="no diffusion-decoder tile fits"):
        auto_tiling(real_decoder, 121, 1024, 1536, budget_bytes=3 << 30)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="model_output_type"):
        DiffusionVideoDecoderArgs(model_output_type="eps")
    with pytest.raises(ValueError, match="multiple of head_dim"):
        DiffusionVideoDecoderArgs(stage_channels=(1000, 512, 256, 256, 128))


def test_split_and_masks_partition_unity() -> None:
    tiles = split_by_size(9, 6, 4, 3)
    assert [(t.start, t.end) for t in tiles] == [(0, 6), (2, 8), (4, 9)]
    acc = np.zeros(40, np.float32)
    for lo, hi, left, right in [(0, 24, 0, 8), (16, 40, 8, 0)]:
        acc[lo:hi] += trapezoid(hi - lo, left, right)
    np.testing.assert_allclose(acc, 1.0, atol=1e-6)


def test_conversion_splits_qkv_folds_gates_drops_unused() -> None:
    w = np.arange(12, dtype=np.float32).reshape(6, 2)
    ckpt = {
        "vae.decoder.det_stages.0.0.attn.qkv.weight": w,
        "vae.decoder.diff_blocks.0.attn.proj.weight": np.ones((2, 2), np.float32),
        "vae.decoder.diff_blocks.0.gate_msa": np.array([2.0, 3.0], np.float32),
        "vae.decoder.t_embedder.mlp.0.bias": np.zeros(3, np.float32),
        "vae.decoder.type_emb": np.zeros(4, np.float32),
        "vae.decoder.coarse_head.weight": np.zeros(4, np.float32),
        "vae.per_channel_statistics.mean-of-means": np.zeros(4, np.float32),
    }
    out = diffusion_decoder_weights(ckpt)
    assert sorted(out) == [
        "det_stages.0.0.attn.qkv.to_k.weight",
        "det_stages.0.0.attn.qkv.to_q.weight",
        "det_stages.0.0.attn.qkv.to_v.weight",
        "diff_blocks.0.attn.proj.weight",
        "per_channel_statistics.mean-of-means",
        "t_embedder.timestep_embedder.linear_1.bias",
    ]
    np.testing.assert_array_equal(out["det_stages.0.0.attn.qkv.to_k.weight"], w[2:4])
    np.testing.assert_array_equal(out["diff_blocks.0.attn.proj.weight"], [[2.0, 2.0], [3.0, 3.0]])


def test_latent_with_wrong_channels_is_one_line(real_decoder: DiffusionVideoDecoder) -> None:
    with pytest.raises(ValueError, match=r"takes \(B, T, H, W, 128\)"):
        real_decoder(mx.zeros((1, 2, 2, 2, 64)))


def test_component_folder_round_trip_picks_the_diffusion_decoder(tmp_path) -> None:
    """A "video_decoder" folder whose config says CausalDiffusionVAE loads strictly as a DiffusionVideoDecoder."""
    from mlx.utils import tree_flatten

    from mlx_ltx_core.model.video_vae import save_video_vae_component
    from mlx_ltx_core.model.video_vae.loading import is_diffusion_decoder_config, load_diffusion_video_decoder

    config = {
        "_class_name": "CausalDiffusionVAE", "model_output_type": "x0",
        "decoder": {"in_channels": 8, "head_dim": 16, "stage_channels": [32, 32, 16, 16, 16],
                    "stage_depths": [1, 1, 1, 1, 1], "upsamples": [[[1, 2, 2], 1], [[2, 1, 1], 2], [[2, 2, 2], 1],
                    [[2, 2, 2], 1]], "t_emb_dim": 32},
    }  # fmt: skip
    model = DiffusionVideoDecoder(DiffusionVideoDecoderArgs.from_config(config))
    save_video_vae_component(tmp_path / "video_decoder", model, config)
    assert is_diffusion_decoder_config(config)
    loaded = load_diffusion_video_decoder(tmp_path / "video_decoder")
    assert isinstance(loaded, DiffusionVideoDecoder)
    ours, theirs = dict(tree_flatten(model.parameters())), dict(tree_flatten(loaded.parameters()))
    assert ours.keys() == theirs.keys()
    assert all(mx.array_equal(ours[k], theirs[k]).item() for k in ours)


def test_gate_fold_refuses_bfloat16_bit_patterns() -> None:
    ckpt = {
        "vae.decoder.diff_blocks.0.context_proj.bias": np.zeros(2, np.uint16),
        "vae.decoder.diff_blocks.0.gate_ctx": np.ones(2, np.uint16),
    }
    with pytest.raises(ValueError, match="static gates need float tensors"):
        diffusion_decoder_weights(ckpt)
