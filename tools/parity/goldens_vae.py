#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 video VAE and latent upsamplers (ltx-core).

Usage: python goldens_vae.py [--out DIR] [--seed N] [--only case1,case2] [--ltx-core-src CHECKOUT]
Writes DIR/vae/<case>.safetensors and manifest.json (see _common.py for the layout).
"""

from __future__ import annotations

import math  # noqa: F401
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import torch
from ltx_core.model.upsampler import LatentUpsampler, LatentUpsamplerConfigurator
from ltx_core.model.video_vae import (
    SpatialTilingConfig,
    TemporalTilingConfig,
    TilingConfig,
    VideoDecoder,
    VideoDecoderConfigurator,
    VideoEncoder,
    VideoEncoderConfigurator,
)

from _common import (
    S,
    fill_special_,
    run_both,
    save_case,
    state_dict_with_prefix,
    vae_prefix,
)

# ----------------------------------------------------------------------------
# video VAE
# ----------------------------------------------------------------------------

# Tiny versions of the real block lists (layer counts shrunk, multipliers kept).
LTX2_ENCODER_BLOCKS = [  # real 19B: res_x 4,6,6,2,2 ; multipliers 2,2,2,2 -> 128..2048 ch
    ["res_x", {"num_layers": 1}],
    ["compress_space_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_time_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_all_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_all_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
]
LTX2_DECODER_BLOCKS = [  # real 19B: res_x 5 x4, compress_all residual mult 2 x3
    ["res_x", {"num_layers": 1, "inject_noise": False}],
    ["compress_all", {"residual": True, "multiplier": 2}],
    ["res_x", {"num_layers": 1, "inject_noise": False}],
    ["compress_all", {"residual": True, "multiplier": 2}],
    ["res_x", {"num_layers": 2, "inject_noise": False}],
    ["compress_all", {"residual": True, "multiplier": 2}],
    ["res_x", {"num_layers": 1, "inject_noise": False}],
]
LTX23_ENCODER_BLOCKS = [  # real 2.3: res_x 4,6,4,2,2 ; multipliers 2,2,2,1 -> 128..1024 ch
    ["res_x", {"num_layers": 1}],
    ["compress_space_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_time_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_all_res", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_all_res", {"multiplier": 1}],
    ["res_x", {"num_layers": 1}],
]
LTX23_DECODER_BLOCKS = [  # real 2.3: res_x 4,6,4,2,2 ; compress_space 2, time 2, all 1, all 2
    ["res_x", {"num_layers": 1}],
    ["compress_space", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_time", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
    ["compress_all", {"multiplier": 1}],
    ["res_x", {"num_layers": 1}],
    ["compress_all", {"multiplier": 2}],
    ["res_x", {"num_layers": 1}],
]

TINY_LATENT = 8  # real: 128
TINY_BASE = 8  # decoder_base_channels, real: 128 (conv_in width = 8 * base in ltx-core 1.0.0)


def vae_config(encoder_blocks, decoder_blocks, padding: str | None, tcond: bool) -> dict:
    cfg = {
        "_class_name": "CausalVideoAutoencoder",
        "dims": 3,
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": TINY_LATENT,
        "encoder_blocks": encoder_blocks,
        "decoder_blocks": decoder_blocks,
        "scaling_factor": 1.0,
        "norm_layer": "pixel_norm",
        "patch_size": 4,
        "latent_log_var": "uniform",
        "use_quant_conv": False,
        "causal_decoder": False,
        "timestep_conditioning": tcond,
        "normalize_latent_channels": False,
        "encoder_base_channels": TINY_BASE,
        "decoder_base_channels": TINY_BASE,
    }
    if padding is not None:  # LTX-2.3 metadata has "spatial_padding_mode": "zeros" (applies to enc AND dec)
        cfg["spatial_padding_mode"] = padding
    return {"vae": cfg}


def case_video_encoder(out_dir: str, case: str, cfg: dict, seed: int) -> None:
    torch.manual_seed(S(seed))
    enc: VideoEncoder = VideoEncoderConfigurator.from_config(cfg).eval()
    fill_special_(enc, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    video = torch.rand((1, 3, 17, 64, 96), generator=g) * 2 - 1  # [-1,1], F = 1 + 8k
    inputs = {"video": video}

    def fn(m, dt):
        return {"latent": m(video.to(dt))}

    names = ["conv_in"] + [f"down_blocks.{i}" for i in range(len(enc.down_blocks))] + ["conv_norm_out", "conv_out"]
    o32, o64, inter = run_both(enc, fn, names)
    save_case(
        out_dir,
        case,
        state_dict_with_prefix(enc, vae_prefix("encoder")),
        inputs,
        o32,
        o64,
        inter,
        {
            "constructor": "VideoEncoderConfigurator.from_config(config)",
            "config": cfg,
            "note": "output = per_channel_statistics.normalize(means); encoder convs always causal (first-frame replicate pad)",
        },
    )


def case_video_decoder(out_dir: str, case: str, cfg: dict, seed: int, latent_shape, tiled: bool = False) -> None:
    torch.manual_seed(S(seed))
    dec: VideoDecoder = VideoDecoderConfigurator.from_config(cfg).eval()
    fill_special_(dec, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    latent = torch.randn(latent_shape, generator=g)
    inputs = {"latent": latent}
    tcond = dec.timestep_conditioning
    extra = {}
    noise_scale = dec.decode_noise_scale
    if tcond:
        # VideoDecoder.forward draws noise = randn(latent.shape, generator, dtype) and uses
        # sample = noise * 0.025 + (1 - 0.025) * latent, timestep = 0.05 (defaults).  torch.randn
        # gives different numbers for float32 vs float64, so the noise is stored as an input and
        # applied here; inside the module decode_noise_scale is set to 0 (noise*0 + 1.0*sample).
        noise = torch.randn(latent.shape, generator=torch.Generator().manual_seed(S(seed) + 3))
        inputs["decode_noise_unit"] = noise
        inputs["timestep"] = torch.tensor([dec.decode_timestep])
        extra = {
            "decode_noise_scale": noise_scale,
            "decode_timestep": dec.decode_timestep,
            "noise_recipe": "module input = decode_noise_unit*0.025 + 0.975*latent; timestep 0.05 "
            "(x timestep_scale_multiplier=1000 inside)",
        }

    def fn(m, dt):
        gen = None
        x = latent.to(dt)
        if tcond:
            m.decode_noise_scale = 0.0
            x = inputs["decode_noise_unit"].to(dt) * noise_scale + (1.0 - noise_scale) * x
        if tiled:
            tcfg = TilingConfig(
                spatial_config=SpatialTilingConfig(tile_size_in_pixels=96, tile_overlap_in_pixels=32),
                temporal_config=TemporalTilingConfig(tile_size_in_frames=32, tile_overlap_in_frames=8),
            )
            chunks = list(m.tiled_decode(x, tcfg, generator=gen))
            out = {"video": torch.cat(chunks, dim=2)}
            for i, c in enumerate(chunks):
                out[f"chunk{i}"] = c
            return out
        return {"video": m(x, generator=gen)}

    names = (
        []
        if tiled
        else (["conv_in"] + [f"up_blocks.{i}" for i in range(len(dec.up_blocks))] + ["conv_norm_out", "conv_out"])
    )
    o32, o64, inter = run_both(dec, fn, names)
    info = {
        "constructor": "VideoDecoderConfigurator.from_config(config)",
        "config": cfg,
        "tiled": tiled,
        **extra,
        "note": "output video in [-1,1]-ish (no clamp); decode_video() maps to uint8 via ((x+1)/2).clamp(0,1)*255",
    }
    if tiled:
        info["tiling"] = {
            "spatial_tile_px": 96,
            "spatial_overlap_px": 32,
            "temporal_tile_frames": 32,
            "temporal_overlap_frames": 8,
        }
    save_case(out_dir, case, state_dict_with_prefix(dec, vae_prefix("decoder")), inputs, o32, o64, inter, info)


# ----------------------------------------------------------------------------
# latent upsampler
# ----------------------------------------------------------------------------


def case_upsampler(out_dir: str, case: str, cfg: dict, seed: int, latent_shape) -> None:
    torch.manual_seed(S(seed))
    up: LatentUpsampler = LatentUpsamplerConfigurator.from_config(cfg).eval()
    fill_special_(up, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    latent = torch.randn(latent_shape, generator=g)

    def fn(m, dt):
        return {"latent_up": m(latent.to(dt))}

    names = ["initial_conv", "initial_norm", "res_blocks.0", "upsampler", "post_upsample_res_blocks.0", "final_conv"]
    o32, o64, inter = run_both(up, fn, names)
    save_case(
        out_dir,
        case,
        state_dict_with_prefix(up, lambda k: k),
        {"latent": latent},
        o32,
        o64,
        inter,
        {
            "constructor": "LatentUpsamplerConfigurator.from_config(config)",
            "config": cfg,
            "note": "pipelines wrap it as upsample_video(): un_normalize with VAE encoder stats -> upsampler -> normalize",
        },
    )


CASES = [
    "video_encoder_ltx2",
    "video_decoder_ltx2",
    "video_decoder_ltx2_tiled",
    "video_decoder_tcond",
    "video_encoder_ltx23",
    "video_decoder_ltx23",
    "upsampler",
]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "vae")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    def want(c: str) -> bool:
        return not only or c in only

    ltx2 = vae_config(LTX2_ENCODER_BLOCKS, LTX2_DECODER_BLOCKS, None, False)  # enc zeros / dec reflect defaults
    ltx23 = vae_config(LTX23_ENCODER_BLOCKS, LTX23_DECODER_BLOCKS, "zeros", False)
    tcond = vae_config(LTX2_ENCODER_BLOCKS, LTX2_DECODER_BLOCKS, None, True)
    if want("video_encoder_ltx2"):
        case_video_encoder(out, "video_encoder_ltx2", ltx2, 100)
    if want("video_decoder_ltx2"):
        case_video_decoder(out, "video_decoder_ltx2", ltx2, 200, (1, TINY_LATENT, 3, 2, 3))
    if want("video_decoder_ltx2_tiled"):
        case_video_decoder(out, "video_decoder_ltx2_tiled", ltx2, 200, (1, TINY_LATENT, 7, 4, 5), tiled=True)
        case_video_decoder(out, "video_decoder_ltx2_untiled_same_input", ltx2, 200, (1, TINY_LATENT, 7, 4, 5))
    if want("video_decoder_tcond"):
        case_video_decoder(out, "video_decoder_tcond", tcond, 300, (1, TINY_LATENT, 2, 2, 2))
    if want("video_encoder_ltx23"):
        case_video_encoder(out, "video_encoder_ltx23", ltx23, 400)
    if want("video_decoder_ltx23"):
        case_video_decoder(out, "video_decoder_ltx23", ltx23, 500, (1, TINY_LATENT, 3, 2, 3))
    if want("upsampler"):
        base = {"in_channels": 8, "mid_channels": 32, "num_blocks_per_stage": 1, "dims": 3}
        spatial = {**base, "spatial_upsample": True, "temporal_upsample": False}
        case_upsampler(
            out,
            "upsampler_spatial_x2",
            {**spatial, "spatial_scale": 2.0, "rational_resampler": False},
            1000,
            (1, 8, 3, 4, 5),
        )
        case_upsampler(
            out,
            "upsampler_spatial_x2_rational",
            {**spatial, "spatial_scale": 2.0, "rational_resampler": True},
            1010,
            (1, 8, 3, 4, 5),
        )
        case_upsampler(
            out,
            "upsampler_spatial_x1_5",
            {**spatial, "spatial_scale": 1.5, "rational_resampler": True},
            1020,
            (1, 8, 3, 4, 6),
        )
        case_upsampler(
            out,
            "upsampler_temporal_x2",
            {
                **base,
                "spatial_upsample": False,
                "temporal_upsample": True,
                "spatial_scale": 1.0,
                "rational_resampler": False,
            },
            1030,
            (1, 8, 3, 4, 5),
        )
    _common.write_manifest(out, "vae", bool(only))


if __name__ == "__main__":
    main()
