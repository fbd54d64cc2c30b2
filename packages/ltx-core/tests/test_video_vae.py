"""Video VAE building blocks, configs, input checks, tiling and presets (tiny models; parity is elsewhere)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.video_vae import (
    TILING_PRESETS,
    SpatialTilingConfig,
    TemporalTilingConfig,
    TilingConfig,
    VideoDecoderArgs,
    VideoEncoderArgs,
    decode_video,
    estimate_decode_peak_bytes,
    get_video_chunks_number,
    patchify,
    random_noise,
    tiling_for,
    unpatchify,
)
from mlx_ltx_core.model.video_vae.convolution import conv3d_frames

import vae_goldens as vg

DECODERS = dict(vg.cases("video_decoder"))


def _decoder(name: str = "video_decoder_ltx2"):
    return vg.build(DECODERS[name], "video_decoder")


def _latent(shape: tuple[int, ...], seed: int = 0) -> mx.array:
    return mx.random.normal(shape, key=mx.random.key(seed))


def test_patchify_puts_the_width_sub_index_before_the_height_sub_index() -> None:
    x = mx.arange(2 * 4 * 4 * 3, dtype=mx.float32).reshape(1, 2, 4, 4, 3)
    p = np.array(patchify(x, 2))  # (1, 2, 2, 2, 12)
    xn = np.array(x)
    for c in range(3):
        for q in range(2):  # height sub-index
            for r in range(2):  # width sub-index
                np.testing.assert_array_equal(p[0, :, 1, 0, c * 4 + r * 2 + q], xn[0, :, 2 + q, r, c])
    np.testing.assert_array_equal(np.array(unpatchify(patchify(x, 2), 2)), xn)


def test_configurator_defaults_for_missing_keys() -> None:
    ltx2 = {"encoder_blocks": [["res_x", 1]], "decoder_blocks": [["res_x", 1]]}  # no spatial_padding_mode
    assert VideoEncoderArgs.from_dict(ltx2).spatial_padding_mode == "zeros"
    assert VideoDecoderArgs.from_dict(ltx2).spatial_padding_mode == "reflect"
    assert VideoDecoderArgs.from_dict(ltx2).timestep_conditioning is True
    ltx23 = {**ltx2, "spatial_padding_mode": "zeros", "timestep_conditioning": False}
    assert VideoDecoderArgs.from_dict(ltx23).spatial_padding_mode == "zeros"
    assert VideoDecoderArgs.from_dict(ltx23).timestep_conditioning is False
    args = VideoDecoderArgs.from_dict({**ltx23, "_class_name": "CausalVideoAutoencoder", "scaling_factor": 1.0})
    assert (args.latent_channels, args.decoder_base_channels, args.causal_decoder) == (128, 128, False)


def test_decoder_blocks_run_in_reverse_and_accept_int_params() -> None:
    args = VideoDecoderArgs.from_dict({"decoder_blocks": [["res_x", 2], ["compress_all", {"multiplier": 2}]]})
    assert args.blocks == [("compress_all", {"multiplier": 2}), ("res_x", {"num_layers": 2})]


def test_unsupported_config_values_are_one_error_listing_each() -> None:
    config = {
        "dims": 2,
        "norm_layer": "group_norm",
        "spatial_padding_mode": "replicate",
        "latent_log_var": "per_channel",
        "encoder_blocks": [["res_x_y", {"multiplier": 2}], ["compress_all", 1]],
    }
    with pytest.raises(ValueError, match="unsupported config values") as err:
        VideoEncoderArgs.from_dict(config)
    for part in ("dims=2", "group_norm", "replicate", "per_channel", "res_x_y", "'compress_all'"):
        assert part in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="decoder block 'attn_res_x'"):
        VideoDecoderArgs.from_dict({"decoder_blocks": [["attn_res_x", {"num_layers": 1, "attention_head_dim": 8}]]})


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 2, 2, 2), r"shape \(1, 2, 2, 2\); expected \(B, F, H, W, C\)"),
        ((1, 1, 2, 2, 3), "latent has 3 channels .* the decoder takes 4"),
        ((1, 1, 1, 2, 4), r"latent is 1x1x2 .* at least 2 \(reflect padding"),
    ],
)
def test_a_latent_that_does_not_fit_is_one_line(shape: tuple[int, ...], message: str) -> None:
    decoder = _decoder()
    with pytest.raises(ValueError, match=message) as err:
        decoder(mx.zeros(shape))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=message):
        decoder.tiled_decode(mx.zeros(shape), TilingConfig.default())  # at the call, not at the first chunk


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 30, 32, 32, 3), r"30 frames; the encoder needs 1 \+ 8k frames \(e\.g\. 25 or 33\)"),
        ((1, 9, 48, 32, 3), "48x32 .* multiples of 32"),
        ((1, 9, 32, 32, 4), "video has 4 channels"),
    ],
)
def test_a_video_that_does_not_fit_is_one_line(shape: tuple[int, ...], message: str) -> None:
    encoder = vg.build(dict(vg.cases("video_encoder"))["video_encoder_ltx2"], "video_encoder")
    with pytest.raises(ValueError, match=message):
        encoder(mx.zeros(shape))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SpatialTilingConfig(100), "tile_size_in_pixels=100 must be at least 64 and divisible by 32"),
        (lambda: SpatialTilingConfig(32), "tile_size_in_pixels=32 must be at least 64"),
        (lambda: SpatialTilingConfig(128, 48), "tile_overlap_in_pixels=48 must be divisible by 32"),
        (lambda: SpatialTilingConfig(128, 128), "less than tile_size_in_pixels=128"),
        (lambda: TemporalTilingConfig(12), "tile_size_in_frames=12 must be at least 16 and divisible by 8"),
        (lambda: TemporalTilingConfig(20), "tile_size_in_frames=20"),
        (lambda: TemporalTilingConfig(32, 4), "tile_overlap_in_frames=4 must be divisible by 8"),
        (lambda: TemporalTilingConfig(32, 32), "less than tile_size_in_frames=32"),
    ],
)
def test_tile_settings_the_reference_forbids(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_tiled_encoding_needs_a_tile_larger_than_its_minimum_overlap() -> None:
    encoder = vg.build(dict(vg.cases("video_encoder"))["video_encoder_ltx2"], "video_encoder")
    with pytest.raises(ValueError, match="tile_size_in_pixels=64 must exceed the tiled-encoding overlap of 64"):
        encoder.tiled_encode(mx.zeros((1, 1, 32, 128, 3)), TilingConfig(SpatialTilingConfig(64, 0)))


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
@pytest.mark.parametrize("time_pad", [(2, 0), (1, 1)])
def test_convolution_slabs_equal_one_convolution(mode: str, time_pad: tuple[int, int]) -> None:
    x, w, b = _latent((1, 7, 5, 6, 3), 1), _latent((4, 3, 3, 3, 3), 2), _latent((4,), 3)
    whole = conv3d_frames(x, w, b, time_pad, True, mode)
    slabs = conv3d_frames(x, w, b, time_pad, True, mode, max_chunk_bytes=1)  # one frame per slab
    np.testing.assert_allclose(np.array(slabs), np.array(whole), rtol=0, atol=1e-6)
    post = conv3d_frames(x, w, b, time_pad, True, mode, max_chunk_bytes=1, post=lambda y: unpatchify(y, 2))
    np.testing.assert_allclose(np.array(post), np.array(unpatchify(whole, 2)), rtol=0, atol=1e-6)


def test_a_tile_as_large_as_the_latent_decodes_like_the_untiled_decoder() -> None:
    decoder, latent = _decoder(), _latent((1, 3, 2, 3, 4))
    chunks = list(decoder.tiled_decode(latent, TilingConfig(SpatialTilingConfig(512), TemporalTilingConfig(64))))
    assert len(chunks) == 1
    np.testing.assert_allclose(np.array(chunks[0]), np.array(decoder(latent)), rtol=0, atol=1e-5)


# Sizes printed by ltx-core 1.0.0's tiled_decode on the same shapes (spatial-only: with a temporal tile longer
# than the video, as the reference fails without a temporal config).
@pytest.mark.parametrize(
    ("tiling", "latent_frames", "sizes"),
    [
        (TilingConfig(SpatialTilingConfig(64, 32)), 2, [9]),  # spatial only: one temporal group
        (TilingConfig(None, TemporalTilingConfig(24, 8)), 4, [8, 17]),
        (TilingConfig(None, TemporalTilingConfig(16, 8)), 3, [0, 17]),  # the reference yields an empty chunk here
        (TilingConfig(None, TemporalTilingConfig(16, 0)), 5, [8, 16, 9]),
    ],
)
def test_chunk_sizes_are_the_references(tiling: TilingConfig, latent_frames: int, sizes: list[int]) -> None:
    decoder = _decoder("video_decoder_ltx2_tiled")  # zeros padding: 1-latent-wide axes allowed
    latent = _latent((1, latent_frames, 3, 1, 4))
    chunks = list(decoder.tiled_decode(latent, tiling))
    assert [c.shape[1] for c in chunks] == sizes
    assert len(chunks) == get_video_chunks_number(8 * (latent_frames - 1) + 1, tiling)
    assert all(c.shape[2:] == (96, 32, 3) for c in chunks)


def test_chunk_count_of_the_default_tiling() -> None:
    counts = {f: get_video_chunks_number(f, TilingConfig.default()) for f in (33, 65, 97, 193, 481)}
    assert counts == {33: 1, 65: 2, 97: 2, 193: 5, 481: 12}  # 33 to 481: what the benchmark's decodes yield


def test_decode_video_yields_uint8_frames_like_the_reference() -> None:
    decoder, latent = _decoder("video_decoder_ltx2_tiled"), _latent((1, 4, 3, 1, 4))
    tiling = TilingConfig(SpatialTilingConfig(64, 32), TemporalTilingConfig(24, 8))
    frames = np.concatenate([np.array(c) for c in decode_video(latent, decoder, tiling)])
    video = np.concatenate([np.array(c[0]) for c in decoder.tiled_decode(latent, tiling)])
    assert frames.dtype == np.uint8
    assert frames.shape == (25, 96, 32, 3)
    np.testing.assert_array_equal(frames, (np.clip((video + 1) / 2, 0, 1) * 255).astype(np.uint8))


def test_seeded_noise_makes_a_timestep_conditioned_decode_reproducible() -> None:
    decoder, latent = _decoder("video_decoder_tcond"), _latent((1, 2, 2, 3, 4))
    first, second = decoder(latent, generator=random_noise(7)), decoder(latent, generator=random_noise(7))
    np.testing.assert_array_equal(np.array(first), np.array(second))
    assert not np.array_equal(np.array(first), np.array(decoder(latent, generator=random_noise(8))))


def test_presets_and_auto() -> None:
    assert TILING_PRESETS["default"] == TilingConfig.default()
    assert TILING_PRESETS["aggressive"].spatial_config.tile_size_in_pixels == 256
    assert TILING_PRESETS["conservative"].temporal_config.tile_size_in_frames == 96
    assert TILING_PRESETS["spatial"].temporal_config is None
    assert TILING_PRESETS["temporal"].spatial_config is None
    assert tiling_for("none") is None
    with pytest.raises(ValueError, match="tiling preset 'huge' is unknown"):
        tiling_for("huge")
    ltx2_blocks = [["res_x", 5], ["compress_all", {"residual": True, "multiplier": 2}]] * 3 + [["res_x", 5]]
    args = VideoDecoderArgs.from_dict({"decoder_blocks": ltx2_blocks, "timestep_conditioning": False})
    short, long = (1, 5, 16, 24, 128), (1, 61, 16, 24, 128)  # 33 and 481 frames at 512x768
    assert tiling_for("auto", args, short, memory_budget=64 * 2**30) is None
    assert tiling_for("auto", args, long, memory_budget=1) == TILING_PRESETS["aggressive"]
    untiled, tiled = (estimate_decode_peak_bytes(args, long, t) for t in (None, TilingConfig.default()))
    assert tiled < untiled / 4
    # Tiled, the peak does not grow with the length: 97 frames need about what 481 do.
    assert 0.9 < estimate_decode_peak_bytes(args, (1, 13, 16, 24, 128), TilingConfig.default()) / tiled <= 1.0
    assert tiling_for("auto", args, long, memory_budget=tiled) in (
        TILING_PRESETS["default"],
        TILING_PRESETS["conservative"],
    )


def test_tiled_decoding_needs_the_8x_32x_decoder() -> None:
    decoder = _decoder("video_decoder_tcond")  # its short block list upsamples 4x in time and 8x in space
    with pytest.raises(ValueError, match="upsamples 8x in time and 32x in space; this one upsamples 4x and 8x"):
        decoder.tiled_decode(_latent((1, 2, 2, 3, 4)), TilingConfig.default())


@pytest.mark.parametrize("causal", [True, False])
def test_a_causal_decoder_does_not_look_ahead(causal: bool) -> None:
    """causal_decoder pads time with the first frame only, so the first frame ignores later latents."""
    config = {**DECODERS["video_decoder_ltx23"]["config"]["vae"], "causal_decoder": causal}
    decoder = vg.VideoDecoder(VideoDecoderArgs.from_dict(config))
    latent = _latent((1, 3, 1, 1, 4))
    changed = mx.concatenate([latent[:, :2], latent[:, 2:] + 1.0], axis=1)
    first, second = np.array(decoder(latent)), np.array(decoder(changed))
    assert np.array_equal(first[:, 0], second[:, 0]) == causal
    assert not np.array_equal(first[:, -1], second[:, -1])
