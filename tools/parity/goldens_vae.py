#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 video VAE and latent upsamplers (PyPI ltx-core 1.0.0).

Usage: python goldens_vae.py [--out DIR] [--seed N] [--only case1,case2]
Writes DIR/vae/ (about 3 MB):
  <model>.weights.safetensors  Lightricks checkpoint keys (``vae.decoder.*``, ``vae.per_channel_statistics.*``,
                               upsampler keys unprefixed). Every weight is rounded to a float16 value before the
                               reference runs and is stored as float16, so the file holds exactly what ran.
  <case>.safetensors           inputs.* (float16-representable, stored float16), outputs.* (the float64 run,
                               rounded to float32: ≤6e-8 relative, far below the 1e-4 parity bound),
                               intermediates.<module> (forward hooks of the float64 run, as float32).
  manifest.json                cases: {name: {file, weights: [files], config, shapes, tiling plan, chunk sizes,
                               float32-vs-float64 max difference of the reference itself, ...}}
Tensors are in the reference's layout (B, C, F, H, W); the tests transpose at their boundary.
"""

from __future__ import annotations

import copy
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import torch
from ltx_core.model.upsampler import LatentUpsampler, LatentUpsamplerConfigurator, upsample_video
from ltx_core.model.video_vae import (
    SpatialTilingConfig,
    TemporalTilingConfig,
    TilingConfig,
    VideoDecoder,
    VideoDecoderConfigurator,
    VideoEncoder,
    VideoEncoderConfigurator,
)
from ltx_core.model.video_vae.ops import PerChannelStatistics
from safetensors.torch import save_file
from tiny_configs import tiny_config

from _common import S, fill_special_, record_intermediates, vae_prefix

# ----------------------------------------------------------------------------
# tiny configs: the real block lists with fewer layers and narrow widths
# ----------------------------------------------------------------------------

# In tiny_configs.json (goldens.vae, goldens.upsampler), metadata-shaped ({"vae": ...}; upscalers flat). Encoders
# have latent_channels 2 (width doubles per compress block; real 128), decoders 4, base channels 2 (real 128).
# ltx2 / ltx23: the real 19B / 2.3 block lists with fewer layers (LTX-2 metadata lacks spatial_padding_mode: encoder
# zeros / decoder reflect; LTX-2.3 has "zeros"). The LTX-2 decoder's last-executed compress_all is plain with
# multiplier 1 (a residual block needs a width divisible by 8; the final PixelNorm sees 4 channels). tcond_dec:
# timestep conditioning and noise injection (LTX-Video 0.9-era paths) at 4x time, 8x space.
_VAE = tiny_config("goldens", "vae")
LTX2, LTX23, LTX2_DEC, LTX2_DEC_ZEROS = _VAE["ltx2"], _VAE["ltx23"], _VAE["ltx2_dec"], _VAE["ltx2_dec_zeros"]
LTX23_DEC, TCOND_DEC = _VAE["ltx23_dec"], _VAE["tcond_dec"]
DEC_LATENT = LTX2_DEC["vae"]["latent_channels"]

_SEEDS = {"spatial_x2": 1000, "spatial_x2_rational": 1010, "spatial_x1_5": 1020, "temporal_x2": 1030}
UPSAMPLERS = {  # case -> (flat config as in the upscaler files' metadata, model seed)
    case: (cfg, _SEEDS[case.removeprefix("upsampler_")]) for case, cfg in tiny_config("goldens", "upsampler").items()
}

# ----------------------------------------------------------------------------
# plumbing: float16-exact weights, float64 run with hooks, float32 run for the manifest
# ----------------------------------------------------------------------------

MODELS_WRITTEN: set[str] = set()


def round_to_f16_(model: torch.nn.Module) -> None:
    """Make every weight a float16 value, so storing it as float16 is lossless."""
    for t in [*model.parameters(), *model.buffers()]:
        if t.is_floating_point():
            t.copy_(t.half().float())


def f16(x: torch.Tensor) -> torch.Tensor:
    return x.half().float()


def write_weights(out_dir: str, name: str, weights: dict[str, torch.Tensor]) -> str:
    file = f"{name}.weights.safetensors"
    if name not in MODELS_WRITTEN:
        save_file({k: v.detach().half().contiguous() for k, v in weights.items()}, os.path.join(out_dir, file))
        MODELS_WRITTEN.add(name)
    return file


def vae_weights(model: torch.nn.Module, part: str) -> dict[str, torch.Tensor]:
    prefix = vae_prefix(part)
    return {prefix(k): v.float() for k, v in model.state_dict().items()}


def run(model: torch.nn.Module, fn, names: list[str], noise: ScriptedRandn | None = None):
    """Float64 run (hooked, the ground truth), then float32 (only for the manifest's max difference)."""
    m64 = copy.deepcopy(model).double()
    store, handles = record_intermediates(m64, names)
    if noise is not None:
        noise.start(record=True)
    out64 = fn(m64, torch.float64)
    for h in handles:
        h.remove()
    if noise is not None:
        noise.start(record=False)
    out32 = fn(model.float(), torch.float32)
    if noise is not None:
        noise.stop()
    return out64, out32, store


class ScriptedRandn:
    """Stands in for ``torch.randn`` inside the reference so both precisions see the same noise, recorded as inputs.

    The float64 run draws float16-rounded standard normals from a seeded generator; the float32 run replays them.
    """

    def __init__(self, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.draws: list[torch.Tensor] = []
        self._orig = torch.randn
        self._replay: list[torch.Tensor] | None = None

    def start(self, record: bool) -> None:
        self._replay = None if record else list(self.draws)
        torch.randn = self._randn

    def stop(self) -> None:
        torch.randn = self._orig

    def _randn(self, *size, generator=None, dtype=None, device=None, **_kw):
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
        if self._replay is None:
            value = f16(self._orig(shape, generator=self.gen))
            self.draws.append(value)
        else:
            value = self._replay.pop(0)
        return value.to(dtype or torch.float32)


def save_case(out_dir: str, case: str, weights: list[str], inputs: dict, out64: dict, out32: dict, inter: dict, info):
    tensors = {f"inputs.{k}": v.detach().half().contiguous() for k, v in inputs.items()}
    tensors.update({f"outputs.{k}": v.detach().float().contiguous() for k, v in out64.items()})
    tensors.update({f"intermediates.{k}": v.detach().float().contiguous() for k, v in inter.items()})
    save_file(tensors, os.path.join(out_dir, f"{case}.safetensors"))
    diffs = {k: float((out32[k].double() - out64[k].double()).abs().max()) if out64[k].numel() else 0.0 for k in out64}
    info = dict(info)
    info.update(
        file=f"{case}.safetensors",
        weights=weights,
        inputs={k: list(v.shape) for k, v in inputs.items()},
        outputs={k: list(v.shape) for k, v in out64.items()},
        intermediates=sorted(inter),
        f32_vs_f64_max_abs_diff=diffs,
        output_abs_max={k: float(v.abs().max()) if v.numel() else 0.0 for k, v in out64.items()},
    )
    _common.MANIFEST["cases"][case] = info
    print(f"[{case}] in={info['inputs']} out={info['outputs']} f32-f64 maxdiff={diffs}")


def build(factory, config: dict, seed: int) -> torch.nn.Module:
    torch.manual_seed(S(seed))
    model = factory(config).eval()
    fill_special_(model, seed + 1)
    round_to_f16_(model)
    return model


def video_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(S(seed))
    return f16(torch.rand(shape, generator=g) * 2 - 1)  # pixels in [-1, 1]


def latent_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return f16(torch.randn(shape, generator=torch.Generator().manual_seed(S(seed))))


def tiling(spatial: tuple[int, int] | None, temporal: tuple[int, int] | None) -> TilingConfig:
    return TilingConfig(
        spatial_config=SpatialTilingConfig(*spatial) if spatial else None,
        temporal_config=TemporalTilingConfig(*temporal) if temporal else None,
    )


def plan(tiles, shape) -> list[dict]:
    """The tiles' latent-in and video-out intervals over (F, H, W), open ends resolved."""

    def iv(s: slice, n: int) -> list[int]:
        return [s.start or 0, n if s.stop is None else s.stop]

    return [
        {"in": [iv(t.in_coords[d], shape[d]) for d in (2, 3, 4)], "out": [iv(t.out_coords[d], -1) for d in (2, 3, 4)]}
        for t in tiles
    ]


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------


def case_encoder(out, case, model_name, cfg, seed, input_seed, video_shape, tiled=None, note=""):
    enc: VideoEncoder = build(VideoEncoderConfigurator.from_config, cfg, seed)
    weights = [write_weights(out, model_name, vae_weights(enc, "encoder"))]
    video = video_input(video_shape, input_seed)

    if tiled is None:

        def fn(m, dt):
            return {"latent": m(video.to(dt))}

        names = ["conv_in", *(f"down_blocks.{i}" for i in range(len(enc.down_blocks))), "conv_norm_out", "conv_out"]
    else:

        def fn(m, dt):
            return {"latent": m.tiled_encode(video.to(dt), tiled)}

        names = []
    o64, o32, inter = run(enc, fn, names)
    info = {"model": model_name, "constructor": "VideoEncoderConfigurator.from_config(config)", "config": cfg}
    if tiled is not None:
        info["tiling"] = _tiling_info(tiled)
        info["constructor"] += ".tiled_encode(video, tiling)"
    if note:
        info["note"] = note
    save_case(out, case, weights, {"video": video}, o64, o32, inter, info)


def _tiling_info(t: TilingConfig) -> dict:
    s, tc = t.spatial_config, t.temporal_config
    return {
        "spatial": [s.tile_size_in_pixels, s.tile_overlap_in_pixels] if s else None,
        "temporal": [tc.tile_size_in_frames, tc.tile_overlap_in_frames] if tc else None,
    }


def case_decoder(out, case, model_name, cfg, seed, input_seed, latent_shape, tiled=None, ref_tiling=None, note=""):
    """``tiled`` is what the port is asked to do; ``ref_tiling`` what the reference runs (when they differ)."""
    dec: VideoDecoder = build(VideoDecoderConfigurator.from_config, cfg, seed)
    weights = [write_weights(out, model_name, vae_weights(dec, "decoder"))]
    latent = latent_input(latent_shape, input_seed)
    noise = ScriptedRandn(S(seed) + 3) if dec.timestep_conditioning else None
    ref_tiling = ref_tiling or tiled
    chunks_seen: list[int] = []

    def fn(m, dt):
        if ref_tiling is None:
            return {"video": m(latent.to(dt))}
        chunks = list(m.tiled_decode(latent.to(dt), ref_tiling))
        chunks_seen[:] = [c.shape[2] for c in chunks]
        return {"video": torch.cat(chunks, dim=2)}

    names = [] if tiled else ["conv_in", *(f"up_blocks.{i}" for i in range(len(dec.up_blocks))), "conv_norm_out"]
    o64, o32, inter = run(dec, fn, names, noise)
    inputs = {"latent": latent}
    info = {"model": model_name, "constructor": "VideoDecoderConfigurator.from_config(config)", "config": cfg}
    if noise is not None:
        inputs.update({f"noise.{i}": v for i, v in enumerate(noise.draws)})
        info["noise"] = (
            "inputs.noise.<i> are the torch.randn draws in call order: the decode noise (latent shape, used as "
            "noise*0.025 + 0.975*latent), then per injecting ResnetBlock3D one (H, W) map after conv1 and one "
            "after conv2; timestep defaults to decode_timestep 0.05"
        )
    if tiled is not None:
        info["tiling"] = _tiling_info(tiled)
        info["reference_tiling"] = _tiling_info(ref_tiling)
        info["chunk_frames"] = list(chunks_seen)
        info["tiles"] = plan(dec._prepare_tiles(latent, ref_tiling), latent.shape)
        info["constructor"] += ".tiled_decode(latent, tiling) chunks concatenated on frames"
    if note:
        info["note"] = note
    save_case(out, case, weights, inputs, o64, o32, inter, info)


def upsampler_trunk(out: str) -> tuple[dict[str, torch.Tensor], str]:
    """Shared non-upsampler weights (initial conv/norm, res blocks, final conv) of every upsampler case."""
    cfg = UPSAMPLERS["upsampler_spatial_x2"][0]
    model = build(LatentUpsamplerConfigurator.from_config, cfg, 990)
    trunk = {k: v.float() for k, v in model.state_dict().items() if not k.startswith("upsampler.")}
    return trunk, write_weights(out, "upsampler_trunk", trunk)


def case_upsampler(out, case, trunk, trunk_file):
    cfg, seed = UPSAMPLERS[case]
    up: LatentUpsampler = build(LatentUpsamplerConfigurator.from_config, cfg, seed)
    up.load_state_dict(trunk, strict=False)
    own = {k: v.float() for k, v in up.state_dict().items() if k.startswith("upsampler.")}
    weights = [trunk_file, write_weights(out, case, own)]
    latent = latent_input((1, cfg["in_channels"], 2, 3, 4), seed + 2)
    g = torch.Generator().manual_seed(S(seed) + 3)
    stats = {
        "mean-of-means": f16(torch.randn(cfg["in_channels"], generator=g) * 0.2),
        "std-of-means": f16(0.5 + torch.rand(cfg["in_channels"], generator=g)),
    }

    def fn(m, dt):
        pcs = PerChannelStatistics(cfg["in_channels"]).to(dt)
        for k, v in stats.items():
            pcs.get_buffer(k).copy_(v)
        encoder = SimpleNamespace(per_channel_statistics=pcs)
        return {"latent_up": m(latent.to(dt)), "upsample_video": upsample_video(latent.to(dt), encoder, m)}

    names = ["initial_conv", "initial_norm", "res_blocks.0", "upsampler", "post_upsample_res_blocks.0"]
    o64, o32, inter = run(up, fn, names)
    # upsample_video calls the model a second time: keep the hooks of the plain call only.
    inter = {k: v for k, v in inter.items() if "#" not in k}
    info = {
        "model": case,
        "constructor": "LatentUpsamplerConfigurator.from_config(config)",
        "config": cfg,
        "note": "outputs.upsample_video = upsample_video(latent, encoder with inputs.{mean,std}-of-means, model)",
    }
    save_case(out, case, weights, {"latent": latent, **stats}, o64, o32, inter, info)


CASES = [
    "video_encoder_ltx2",
    "video_encoder_ltx2_tiled_spatial",
    "video_encoder_ltx2_tiled_temporal",
    "video_encoder_ltx23",
    "video_decoder_ltx2",
    "video_decoder_ltx2_tiled",
    "video_decoder_ltx2_tiled_spatial",
    "video_decoder_tcond",
    "video_decoder_ltx23",
    *UPSAMPLERS,
]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "vae")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    unknown = only - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}; choose from {CASES}")

    def want(c: str) -> bool:
        return not only or c in only

    if want("video_encoder_ltx2"):
        case_encoder(out, "video_encoder_ltx2", "encoder_ltx2", LTX2, 100, 110, (1, 3, 9, 32, 64))
    if want("video_encoder_ltx2_tiled_spatial"):
        case_encoder(
            out, "video_encoder_ltx2_tiled_spatial", "encoder_ltx2", LTX2, 100, 120, (1, 3, 1, 32, 128),
            tiled=tiling((96, 64), None), note="2 tiles on W (96 px, overlap 64 = the encoder's minimum)",
        )  # fmt: skip
    if want("video_encoder_ltx2_tiled_temporal"):
        case_encoder(
            out, "video_encoder_ltx2_tiled_temporal", "encoder_ltx2", LTX2, 100, 130, (1, 3, 25, 32, 32),
            tiled=tiling(None, (24, 16)), note="2 temporal tiles (24 frames, overlap 16 = the encoder's minimum)",
        )  # fmt: skip
    if want("video_encoder_ltx23"):
        case_encoder(out, "video_encoder_ltx23", "encoder_ltx23", LTX23, 400, 410, (1, 3, 9, 32, 32))
    if want("video_decoder_ltx2"):
        case_decoder(out, "video_decoder_ltx2", "decoder_ltx2", LTX2_DEC, 200, 210, (1, DEC_LATENT, 1, 2, 2))
    if want("video_decoder_ltx2_tiled"):
        case_decoder(
            out, "video_decoder_ltx2_tiled", "decoder_ltx2", LTX2_DEC_ZEROS, 200, 220, (1, DEC_LATENT, 4, 3, 1),
            tiled=tiling((64, 32), (24, 8)),
            note="LTX-2 block list and weights with zeros padding (a 1-latent-wide axis needs it): 2 temporal "
            "groups x 2 tiles on H; W (shorter than a tile) is tiled in video_decoder_ltx2_tiled_spatial",
        )  # fmt: skip
    if want("video_decoder_ltx2_tiled_spatial"):
        case_decoder(
            out, "video_decoder_ltx2_tiled_spatial", "decoder_ltx2", LTX2_DEC, 200, 230, (1, DEC_LATENT, 1, 2, 3),
            tiled=tiling((64, 32), None), ref_tiling=tiling((64, 32), (64, 24)),
            note="spatial-only tiling: ltx-core 1.0.0 tiled_decode fails without a temporal config (None - 0), so "
            "the reference runs with a temporal tile longer than the video, which is the same single temporal group",
        )  # fmt: skip
    if want("video_decoder_tcond"):
        case_decoder(out, "video_decoder_tcond", "decoder_tcond", TCOND_DEC, 300, 310, (1, DEC_LATENT, 2, 2, 3))
    if want("video_decoder_ltx23"):
        case_decoder(out, "video_decoder_ltx23", "decoder_ltx23", LTX23_DEC, 500, 510, (1, DEC_LATENT, 2, 1, 1))
    if any(want(c) for c in UPSAMPLERS):
        trunk, trunk_file = upsampler_trunk(out)
        for case in UPSAMPLERS:
            if want(case):
                case_upsampler(out, case, trunk, trunk_file)
    _common.MANIFEST["storage"] = (
        "weights and inputs: float16 values stored as float16 (exactly what the reference ran); "
        "outputs: float64 run rounded to float32; intermediates: float64 run as float32; layout (B, C, F, H, W)"
    )
    _common.write_manifest(out, "vae", bool(only))


if __name__ == "__main__":
    main()
