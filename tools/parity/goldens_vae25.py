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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import torch
from ltx_core.model.video_vae.model_configurator import (
    VideoEncoderConfigurator,
    _build_conv_video_decoder,
)
from ltx_core.model.video_vae.transformer.attention import NeighborhoodAttention3D
from ltx_core.model.video_vae.transformer.blocks import NABlock
from ltx_core.model.video_vae.transformer.chunked.attn import chunked
from ltx_core.model.video_vae.transformer.fallback_na import EagerSdpaAttention
from ltx_core.model.video_vae.transformer.fallback_na.eager import na3d
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
CASES = [*NA3D, "na_attention_det", "na_block_det", *CHUNKED, *CONV25]


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
        else:
            case_det(out, case)
    _common.MANIFEST["storage"] = (
        "weights and inputs: float16 values stored as float16; outputs and intermediates: float64 run as float32; "
        "layouts: NA (B, T, H, W, heads, head_dim), blocks (B, T, H, W, C)"
    )
    _common.write_manifest(out, "vae25", bool(only))


if __name__ == "__main__":
    main()
