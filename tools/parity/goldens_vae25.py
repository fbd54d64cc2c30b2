#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2.5 diffusion video VAE parts (Lightricks/LTX-2 v1.2.0 source).

Usage: python goldens_vae25.py --ltx-core-src /work/wt/ltx-src [--out DIR] [--seed N] [--only case1,case2]
Writes DIR/vae25/ (tens of KB), one <case>.safetensors per case plus manifest.json:
  weights.<module key>  the module's own state-dict keys (float16 values, stored float16)
  inputs.*              float16-representable, stored float16
  outputs.*             the float64 run rounded to float32; intermediates.* likewise
Layouts are the reference's own: NA tensors (B, T, H, W, heads, head_dim), block activations (B, T, H, W, C).

Cases and the mode they encode (manifest "mode"):
  na3d_*            fallback_na.eager.na3d (NATTEN na3d semantics: windows shifted inward at borders)
  na_attention_det  NeighborhoodAttention3D.forward with EagerSdpaAttention (det stages: q/k norms, ·1/√d, RoPE)
  na_block_det      NABlock (norms, NA, SwiGLU)
  na_chunked_*      chunked.attn.chunked (the default ``chunked_eager`` stage-5 residual: W chunks with
                    edge-replicated halos, in-slab RoPE positions core_start - halo ...)
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import torch
from ltx_core.model.video_vae.model_configurator import (
    VideoEncoderConfigurator,
    _build_conv_video_decoder,
    _build_diffusion_video_decoder,
)
from ltx_core.model.video_vae.transformer.apply import apply_diffvae_mode
from ltx_core.model.video_vae.transformer.attention import NeighborhoodAttention3D
from ltx_core.model.video_vae.transformer.blocks import NABlock
from ltx_core.model.video_vae.transformer.chunked.attn import chunked
from ltx_core.model.video_vae.transformer.config import DiffVAEMode
from ltx_core.model.video_vae.transformer.fallback_na import EagerSdpaAttention
from ltx_core.model.video_vae.transformer.fallback_na.eager import na3d
from ltx_core.tiling import DimensionSizeConfig, TileSizeConfig
from safetensors.torch import save_file

from _common import S, fill_special_, record_intermediates, vae_prefix


def f16(x: torch.Tensor) -> torch.Tensor:
    return x.half().float()


def randn(shape, seed: int, scale: float = 1.0) -> torch.Tensor:
    return f16(torch.randn(shape, generator=torch.Generator().manual_seed(S(seed))) * scale)


def randomise_(model: torch.nn.Module, seed: int) -> None:
    """Seeded values for every parameter (RMSNorm weights near 1), rounded to float16."""
    g = torch.Generator().manual_seed(S(seed))
    for name, p in model.named_parameters():
        if p.ndim == 1 and name.endswith("weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        else:
            fan_in = p.shape[-1] if p.ndim > 1 else p.shape[0]
            p.copy_(torch.randn(p.shape, generator=g) / fan_in**0.5)
        p.copy_(f16(p))


def save_case(out_dir: str, case: str, weights: dict, inputs: dict, out64: dict, out32: dict, inter: dict, info):
    tensors = {f"weights.{k}": v.detach().half().contiguous() for k, v in weights.items()}
    tensors.update({f"inputs.{k}": v.detach().half().contiguous() for k, v in inputs.items()})
    tensors.update({f"outputs.{k}": v.detach().float().contiguous() for k, v in out64.items()})
    tensors.update({f"intermediates.{k}": v.detach().float().contiguous() for k, v in inter.items()})
    save_file(tensors, os.path.join(out_dir, f"{case}.safetensors"))
    diffs = {k: float((out32[k].double() - out64[k].double()).abs().max()) for k in out64}
    info = dict(info)
    info.update(
        file=f"{case}.safetensors",
        inputs={k: list(v.shape) for k, v in inputs.items()},
        outputs={k: list(v.shape) for k, v in out64.items()},
        intermediates=sorted(inter),
        f32_vs_f64_max_abs_diff=diffs,
        output_abs_max={k: float(v.abs().max()) for k, v in out64.items()},
    )
    _common.MANIFEST["cases"][case] = info
    print(f"[{case}] in={info['inputs']} out={info['outputs']} f32-f64 maxdiff={diffs}")


def run(model: torch.nn.Module | None, fn, names: list[str] = ()):
    """Float64 run (hooked, the ground truth), then float32 (for the manifest's max difference)."""
    m64 = copy.deepcopy(model).double() if model is not None else None
    store, handles = record_intermediates(m64, list(names)) if m64 is not None else ({}, [])
    out64 = fn(m64, torch.float64)
    for h in handles:
        h.remove()
    out32 = fn(model.float() if model is not None else None, torch.float32)
    return out64, out32, store


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------

NA3D = {  # case -> (q/k/v shape (B, T, H, W, heads, head_dim), kernel, seed, note)
    "na3d_borders": ((1, 5, 6, 7, 2, 8), (3, 3, 5), 100, "every axis has border queries with shifted windows"),
    "na3d_kernel_exceeds_axis": ((2, 2, 4, 9, 1, 16), (3, 7, 3), 110, "K > L on T and H: K' = L (full axis)"),
    "na3d_volume": ((1, 4, 9, 10, 2, 16), (3, 5, 7), 120, "larger volume, several eager query tiles per axis"),
}


def case_na3d(out: str, case: str) -> None:
    shape, kernel, seed, note = NA3D[case]
    q, k, v = (randn(shape, seed + i) for i in range(3))

    def fn(_m, dt):
        return {"out": na3d(q.to(dt), k.to(dt), v.to(dt), list(kernel), scale=1.0)}

    o64, o32, _ = run(None, fn)
    info = {"mode": "eager na3d (NATTEN semantics)", "kernel_size": list(kernel), "note": note}
    save_case(out, case, {}, {"q": q, "k": k, "v": v}, o64, o32, {}, info)


def _eager(model: torch.nn.Module) -> torch.nn.Module:
    for m in model.modules():
        if isinstance(m, NeighborhoodAttention3D):
            m.attention_function = EagerSdpaAttention()
    return model


def case_det(out: str, case: str) -> None:
    dim, head_dim, kernel, shape, seed = 32, 16, (3, 3, 5), (1, 3, 5, 6), 200
    torch.manual_seed(S(seed))
    if case == "na_attention_det":
        model = _eager(NeighborhoodAttention3D(dim, kernel, head_dim=head_dim))
        names = ["qkv.to_q", "qkv.to_k", "qkv.to_v"]
    else:
        model = _eager(NABlock(dim, kernel, head_dim=head_dim))
        names = ["norm1", "attn", "norm2"]
    randomise_(model, seed + 1)
    x = randn((*shape, dim), seed + 2)

    def fn(m, dt):
        return {"out": m(x.to(dt))}

    o64, o32, inter = run(model, fn, names)
    weights = {k: v.float() for k, v in model.state_dict().items()}
    info = {
        "mode": "eager (NATTEN semantics), full-volume RoPE with rope_num_tiles 4",
        "module": type(model).__name__,
        "dim": dim,
        "head_dim": head_dim,
        "kernel_size": list(kernel),
    }
    save_case(out, case, weights, {"x": x}, o64, o32, inter, info)


CHUNKED = {  # case -> (x shape (B, T, H, W), kernel, w_chunks, seed, note)
    "na_chunked_w4": ((1, 3, 4, 10), (3, 3, 5), 4, 300, "W 10 in 4 chunks of 3 (last one 1 wide), halo 2"),
    "na_chunked_w1": ((1, 3, 4, 7), (3, 3, 5), 1, 310, "one chunk: both W borders edge-replicated"),
}


def case_chunked(out: str, case: str) -> None:
    shape, kernel, w_chunks, seed, note = CHUNKED[case]
    dim, head_dim = 32, 16
    torch.manual_seed(S(seed))
    model = torch.nn.ModuleDict({"attn": NeighborhoodAttention3D(dim, kernel, head_dim=head_dim)})
    model["norm1"] = torch.nn.RMSNorm(dim, eps=1e-6)
    _eager(model)
    model["attn"].w_chunks = w_chunks
    model["attn"].rope_num_tiles = 1
    randomise_(model, seed + 1)
    x = randn((*shape, dim), seed + 2)
    scale, shift = randn((1, 1, 1, 1, dim), seed + 3, 0.3), randn((1, 1, 1, 1, dim), seed + 4, 0.3)

    def fn(m, dt):
        return {"out": chunked(x.to(dt).clone(), m["attn"], m["norm1"], scale.to(dt), shift.to(dt))}

    o64, o32, _ = run(model, fn)
    weights = {k: v.float() for k, v in model.state_dict().items()}
    info = {
        "mode": "chunked_eager stage-5 residual: x + attn.proj(NA(modulate(norm1(x)))) over W chunks",
        "dim": dim,
        "head_dim": head_dim,
        "kernel_size": list(kernel),
        "w_chunks": w_chunks,
        "note": note,
    }
    save_case(out, case, weights, {"x": x, "scale": scale, "shift": shift}, o64, o32, {}, info)


# 2.5 encoder (nested CausalDiffusionVAE "encoder" config: blocks / out_channels, constant log-variance) and the
# ConvVideoDecoder, both with the v1.2.0 "attn" block; tiny widths, real block kinds.
ENCODER25 = {
    "_class_name": "CausalDiffusionVAE",
    "encoder": {
        "dims": 3,
        "in_channels": 3,
        "out_channels": 4,
        "blocks": [
            ["res_x", {"num_layers": 1}],
            ["compress_space_res", {"multiplier": 2}],
            ["attn", {}],
            ["compress_time_res", {"multiplier": 2}],
            ["compress_all_res", {"multiplier": 2}],
        ],
        "patch_size": 4,
        "norm_layer": "pixel_norm",
        "latent_log_var": "constant",
        "spatial_padding_mode": "zeros",
    },
}
CONV_DECODER25 = {
    "_class_name": "CausalVideoAutoencoder",
    "dims": 3,
    "latent_channels": 4,
    "out_channels": 3,
    "decoder_blocks": [
        ["res_x", {"num_layers": 1}],
        ["compress_space", {"multiplier": 2}],
        ["attn", {}],
        ["compress_all", {"multiplier": 2}],
        ["res_x", {"num_layers": 1}],
    ],
    "patch_size": 4,
    "norm_layer": "pixel_norm",
    "causal_decoder": False,
    "timestep_conditioning": False,
    "spatial_padding_mode": "zeros",
    "decoder_base_channels": 4,
}


def _build(factory, cfg: dict, seed: int) -> torch.nn.Module:
    torch.manual_seed(S(seed))
    model = factory(cfg).eval()
    fill_special_(model, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    for name, p in model.named_parameters():
        if name.endswith("gamma"):  # AttnBlock3D norm gain (ones at init)
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
    for t in [*model.parameters(), *model.buffers()]:
        if t.is_floating_point():
            t.copy_(f16(t))
    return model


def case_conv_vae(out: str, case: str) -> None:
    if case == "video_encoder_25":
        model = _build(lambda c: VideoEncoderConfigurator.from_metadata({"config": {"vae": c}}), ENCODER25, 400)
        g = torch.Generator().manual_seed(S(410))
        x = {"video": f16(torch.rand((1, 3, 9, 32, 32), generator=g) * 2 - 1)}
        names = ["conv_in", *(f"down_blocks.{i}" for i in range(len(model.down_blocks))), "conv_norm_out", "conv_out"]
        part, cfg, key, constructor = "encoder", ENCODER25, "latent", "VideoEncoderConfigurator.from_metadata"
    else:
        model = _build(_build_conv_video_decoder, CONV_DECODER25, 500)
        x = {"latent": randn((1, 4, 2, 2, 3), 510)}
        names = ["conv_in", *(f"up_blocks.{i}" for i in range(len(model.up_blocks))), "conv_norm_out"]
        part, cfg, key, constructor = "decoder", CONV_DECODER25, "video", "_build_conv_video_decoder (ConvVideoDecoder)"

    def fn(m, dt):
        return {key: m(next(iter(x.values())).to(dt))}

    o64, o32, inter = run(model, fn, names)
    prefix = vae_prefix(part)
    weights = {prefix(k): v.float() for k, v in model.state_dict().items()}
    info = {"constructor": constructor, "config": {"vae": cfg}, "layout": "(B, C, F, H, W)"}
    save_case(out, case, weights, x, o64, o32, inter, info)


CONV25 = ["video_encoder_25", "conv_decoder_25"]

# Diffusion decoder: the shipped 2.5 structure (5 stages, real strides and reductions, x0 output, one step,
# timestep x1000) at 16-32 channels (reductions 1, 2, 1, 1 keep every width a multiple of head_dim), head_dim 16, depth 1 per det stage and 2 diffusion blocks, 3x3x3 det kernels
# (latent floor (3, 3, 3)) and a 3x5x5 stage-5 kernel. Weights are shared by every case.
DIFF_DECODER = {
    "_class_name": "CausalDiffusionVAE",
    "latent_channels": 8,
    "model_output_type": "x0",
    "decoder": {
        "in_channels": 8,
        "out_channels": 3,
        "patch_size": 4,
        "head_dim": 16,
        "stage_channels": [32, 32, 16, 16, 16],
        "stage_depths": [1, 1, 1, 1, 2],
        "stage_kernels": [[3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]],
        "upsamples": [[[1, 2, 2], 1], [[2, 1, 1], 2], [[2, 2, 2], 1], [[2, 2, 2], 1]],
        "stage5_kernel": [3, 5, 5],
        "t_emb_dim": 32,
        "default_num_inference_steps": 1,
        "timestep_scale_multiplier": 1000.0,
    },
}
DIFF_CASES = {  # case -> (latent (B, C, T, H, W), mode, config overrides, seed, note)
    "diffusion_decoder_chunked": (
        (1, 8, 2, 1, 1), "chunked_eager", {}, 610,
        "H and W floor-padded 1 -> 3 (symmetric), ghost pad 2, 9 frames out; stage-5 W 24 tokens in 4 chunks",
    ),
    "diffusion_decoder_combined": (
        (1, 8, 1, 3, 2), "combined (eager NA, NATTEN semantics)", {}, 620,
        "T floor-padded 1 -> 3 (repeat last), W 2 -> 3; full-volume stage 5",
    ),
    "diffusion_decoder_v2": (
        (1, 8, 2, 1, 1), "chunked_eager", {"model_output_type": "v", "default_num_inference_steps": 2}, 630,
        "'v' output, 2 Euler steps from one whole-video noise draw",
    ),
    "diffusion_decoder_tiled": (
        (1, 8, 2, 1, 1), "chunked_eager", {}, 640,
        "tiled: stage-4 grid (9, 12, 12) in 3 x 2 x 2 tiles (the minimum overlaps: 8 frames, 32 px), "
        "per-tile noise in tile order, 3 emitted chunks",
    ),
}  # fmt: skip
# Tiling of the tiled cases (frames, height, width as (tile_size, overlap) in frames / pixels).
DIFF_TILING = {"diffusion_decoder_tiled": ((12, 8), (64, 32), (64, 32))}


class NumpyNoise:
    """Replaces torch.randn during a decode: standard normals from numpy PCG64(seed), rounded to float16, drawn in
    call order in the reference's (B, C, F, H, W) layout. The port regenerates them from the manifest's seed."""

    def __init__(self, seed: int) -> None:
        self.seed, self.shapes, self._orig = seed, [], torch.randn

    def __enter__(self):
        rng = np.random.default_rng(self.seed)

        def randn(*size, generator=None, dtype=None, device=None, **_kw):
            shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
            self.shapes.append(list(shape))
            return torch.from_numpy(rng.standard_normal(shape).astype(np.float16).astype(np.float64)).to(dtype)

        torch.randn = randn
        return self

    def __exit__(self, *_exc):
        torch.randn = self._orig


def _diffusion_decoder(cfg: dict, chunked: bool) -> torch.nn.Module:
    torch.manual_seed(S(600))
    dec = _build_diffusion_video_decoder(cfg).eval()
    fill_special_(dec, 601)
    g = torch.Generator().manual_seed(S(602))
    dec.shared_adaln.proj.weight.copy_(torch.randn(dec.shared_adaln.proj.weight.shape, generator=g) * 0.1)
    dec.shared_adaln.proj.bias.copy_(torch.randn(dec.shared_adaln.proj.bias.shape, generator=g) * 0.1)
    for t in [*dec.parameters(), *dec.buffers()]:
        if t.is_floating_point():
            t.copy_(f16(t))
    if chunked:
        apply_diffvae_mode(dec, DiffVAEMode.CHUNKED_EAGER)
    else:
        _eager(dec)
    return dec


GATES = {".gate_msa": ".attn.proj", ".gate_mlp": ".mlp.w_down", ".gate_ctx": ".context_proj"}


def diffusion_checkpoint(dec: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The decoder's weights as a 2.5 VAE file holds them, and the module set to what the reference loads from it.

    File form: ``vae.decoder.`` prefix, fused ``attn.qkv.{weight,bias}``, ``t_embedder.mlp.{0,2}``,
    ``vae.per_channel_statistics.*``, plus keys the loader drops (``coarse_*``, the unused ``type_emb``) and static
    gates on diff block 0 (the shipped file has none; the loader folds them: ``W <- g[:, None]·W`` in float32, cast
    back to the file dtype).
    """
    g = torch.Generator().manual_seed(S(603))
    sd = {k: v.detach().float().clone() for k, v in dec.state_dict().items()}
    out: dict[str, torch.Tensor] = {}
    for gate, target in GATES.items():
        value = f16(0.5 + torch.rand(sd[f"diff_blocks.0{target}.weight"].shape[0], generator=g))
        out[f"vae.decoder.diff_blocks.0{gate}"] = value
        for leaf in ("weight", "bias"):
            key = f"diff_blocks.0{target}.{leaf}"
            if key in sd:  # module := fold(file value), exactly as the reference's loader computes it
                folded = value[:, None] * sd[key] if leaf == "weight" else value * sd[key]
                dec.get_parameter(key).copy_(f16(folded))  # folded in float32, stored in the file dtype
    for key, value in sd.items():
        if ".stage4_upsample." in key:  # chunked mode's alias of upsamples.3, not a checkpoint tensor
            continue
        if key.startswith("per_channel_statistics."):
            out["vae." + key] = value
            continue
        if ".attn.qkv.to_q." in key:
            leaf = key.rsplit(".", 1)[1]
            base = key.split(".attn.qkv.")[0]
            parts = [sd[f"{base}.attn.qkv.to_{n}.{leaf}"] for n in "qkv"]
            out[f"vae.decoder.{base}.attn.qkv.{leaf}"] = torch.cat(parts)
            continue
        if ".attn.qkv.to_" in key:
            continue
        key = key.replace("t_embedder.timestep_embedder.linear_1.", "t_embedder.mlp.0.")
        key = key.replace("t_embedder.timestep_embedder.linear_2.", "t_embedder.mlp.2.")
        out["vae.decoder." + key] = value
    out["vae.decoder.type_emb"] = f16(torch.randn(8, generator=g))
    out["vae.decoder.coarse_head.weight"] = f16(torch.randn(4, 4, generator=g))
    return out


def case_diffusion_decoder(out: str, case: str) -> None:
    shape, mode, overrides, seed, note = DIFF_CASES[case]
    cfg = copy.deepcopy(DIFF_DECODER)
    if "model_output_type" in overrides:
        cfg["model_output_type"] = overrides["model_output_type"]
    cfg["decoder"].update({k: v for k, v in overrides.items() if k != "model_output_type"})
    dec = _diffusion_decoder(cfg, chunked=mode == "chunked_eager")
    checkpoint = diffusion_checkpoint(dec)
    latent = randn(shape, seed)
    shapes: list = []

    tiling = DIFF_TILING.get(case)
    chunk_frames: list[int] = []

    def fn(m, dt):
        with NumpyNoise(S(seed) + 1) as noise:
            if tiling is None:
                video = m(latent.to(dt))
            else:
                config = TileSizeConfig(*(DimensionSizeConfig(*axis) for axis in tiling))
                chunks = list(m.tiled_decode(latent.to(dt), config))
                chunk_frames[:] = [c.shape[2] for c in chunks]
                video = torch.cat(chunks, dim=2)
        shapes[:] = noise.shapes
        return {"video": video}

    o64, o32, inter = run(dec, fn, ["upsamples.0", "upsamples.1"])
    file = "diffusion_decoder.weights.safetensors"
    if not os.path.exists(os.path.join(out, file)) or case == next(iter(DIFF_CASES)):
        save_file({k: v.half().contiguous() for k, v in checkpoint.items()}, os.path.join(out, file))
    info = {
        "weights": file,
        "mode": mode,
        "w_chunks": 4 if mode == "chunked_eager" else 1,
        "config": {"vae": cfg},
        "constructor": "_build_diffusion_video_decoder(config['vae']).forward(latent) (untiled)",
        "noise": {"numpy_pcg64_seed": S(seed) + 1, "float16": True, "shapes_bcfhw": shapes},
        "layout": "latent / video (B, C, F, H, W); intermediates (B, T, H, W, C); weights: the checkpoint's keys",
        "note": note,
    }
    if tiling is not None:
        info.update(tiling=[list(a) for a in tiling], chunk_frames=chunk_frames)
        info["constructor"] = "_build_diffusion_video_decoder(config['vae']).tiled_decode(latent, TileSizeConfig)"
    save_case(out, case, {}, {"latent": latent}, o64, o32, inter, info)


CASES = [*NA3D, "na_attention_det", "na_block_det", *CHUNKED, *CONV25, *DIFF_CASES]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "vae25")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    if unknown := only - set(CASES):
        raise SystemExit(f"unknown cases {sorted(unknown)}; choose from {CASES}")
    for case in CASES:
        if only and case not in only:
            continue
        if case in NA3D:
            case_na3d(out, case)
        elif case in CHUNKED:
            case_chunked(out, case)
        elif case in CONV25:
            case_conv_vae(out, case)
        elif case in DIFF_CASES:
            case_diffusion_decoder(out, case)
        else:
            case_det(out, case)
    _common.MANIFEST["storage"] = (
        "weights and inputs: float16 values stored as float16; outputs and intermediates: float64 run as float32; "
        "layouts: NA (B, T, H, W, heads, head_dim), blocks (B, T, H, W, C)"
    )
    _common.write_manifest(out, "vae25", bool(only))


if __name__ == "__main__":
    main()
