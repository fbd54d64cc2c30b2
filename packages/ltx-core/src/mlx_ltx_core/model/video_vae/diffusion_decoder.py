"""``DiffusionVideoDecoder``, the LTX-2.5 "NADiffusionDecoder" (ports video_vae/diffusion_video_decoder.py and
transformer/{layers,blocks}.py at v1.2.0).

Latent (B, T, H, W, 128) -> video (B, 8(T-1)+1, 32H, 32W, 3) in [-1, 1]. Stages 0-2 (deterministic NA blocks +
linear pixel-shuffle upsamples) run on the latent after a floor pad (every NA axis >= its kernel) and a ghost pad
(the last frame repeated ``(K_t//2)·2`` times); stage 3 and the stage-5 diffusion blocks run on the stage-4 grid;
the stage-5 input is Gaussian noise in pixel space (drawn with ``generator``), and one step at t=1 with an "x0"
model is the decoded video. ``w_chunks`` picks the reference's stage-5 border semantics: 1 = full-volume NA
(``combined_compile``, NATTEN windows), 4 = ``chunked_eager`` (the pipelines' default; centred windows with
edge-replicated halos at the left/right image border).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from mlx_ltx_core.model.transformer.timestep_embedding import PixArtAlphaCombinedTimestepSizeEmbeddings
from mlx_ltx_core.model.video_vae import diffusion_geometry as geo
from mlx_ltx_core.model.video_vae.na_blocks import (
    NABlock,
    NeighborhoodAttention3D,
    SwiGLU,
    mlp_hidden,
    modulate,
    w_chunked_attention_residual,
)
from mlx_ltx_core.model.video_vae.ops import NoiseGenerator, PerChannelStatistics, patchify, unpatchify

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.diffusion_tiled import TileSizeConfig

# config["vae"] of the shipped 2.5 VAE (fact sheet §5.3), for benchmarks and memory estimates without a checkpoint.
REAL_DIFFUSION_DECODER_CONFIG: dict[str, Any] = {
    "_class_name": "CausalDiffusionVAE",
    "model_output_type": "x0",
    "decoder": {
        "in_channels": 128,
        "out_channels": 3,
        "patch_size": 4,
        "head_dim": 64,
        "stage_channels": [2048, 1024, 512, 512, 256],
        "stage_depths": [4, 6, 4, 2, 8],
        "stage_kernels": [[3, 7, 7], [3, 7, 7], [3, 5, 5], [3, 5, 5], [11, 11, 11]],
        "upsamples": [[[1, 2, 2], 2], [[2, 1, 1], 2], [[2, 2, 2], 1], [[2, 2, 2], 2]],
        "stage5_kernel": [11, 11, 11],
        "default_num_inference_steps": 1,
        "timestep_scale_multiplier": 1000.0,
    },
}
NUM_CHUNKS = 7  # AdaLN chunks: scale_msa, shift_msa, gate_msa, scale_mlp, shift_mlp, gate_mlp, gate_ctx
CHUNKED_EAGER_W_CHUNKS = 4
TIME_SCALE, SPACE_SCALE = 8, 32  # the reference's SpatioTemporalScaleFactors.default()


@dataclass
class DiffusionVideoDecoderArgs:
    """Constructor arguments; ``from_config(config["vae"])`` reads ``vae.decoder`` (else ``vae``) as v1.2.0 does."""

    in_channels: int = 128
    out_channels: int = 3
    patch_size: int = 4
    head_dim: int = 64
    stage_channels: tuple = (1024, 512, 256, 256, 128)
    stage_depths: tuple = (4, 6, 4, 2, 8)
    stage_kernels: tuple = ((3, 7, 7), (3, 7, 7), (3, 5, 5), (3, 5, 5), (3, 3, 3))
    upsamples: tuple = (((1, 2, 2), 2), ((2, 1, 1), 2), ((2, 2, 2), 1), ((2, 2, 2), 2))
    stage5_kernel: tuple = (3, 7, 7)
    stage5_channels: int | None = None
    t_emb_dim: int = 384
    default_num_inference_steps: int = 2
    timestep_scale_multiplier: float = 1.0
    model_output_type: str = "v"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DiffusionVideoDecoderArgs:
        d = config.get("decoder", config)
        kw: dict[str, Any] = {"in_channels": d.get("in_channels", config.get("latent_channels", 128))}
        for key in ("out_channels", "patch_size", "t_emb_dim", "default_num_inference_steps", "stage5_channels"):
            if key in d:
                kw[key] = d[key]
        if "timestep_scale_multiplier" in d:
            kw["timestep_scale_multiplier"] = float(d["timestep_scale_multiplier"])
        kw["head_dim"] = d.get("head_dim", d.get("na_head_dim", 64))
        for key in ("stage_channels", "stage_depths"):
            if key in d:
                kw[key] = tuple(d[key])
        if "stage_kernels" in d:
            kw["stage_kernels"] = tuple(tuple(k) for k in d["stage_kernels"])
        if "upsamples" in d:
            kw["upsamples"] = tuple((tuple(s), r) for s, r in d["upsamples"])
        if "stage5_kernel" in d:
            kw["stage5_kernel"] = tuple(d["stage5_kernel"])
        kw["model_output_type"] = config.get("model_output_type", "v")  # a sibling of "decoder"
        return cls(**kw)

    def __post_init__(self) -> None:
        bad = []
        n = len(self.stage_channels)
        if not (len(self.stage_depths) == len(self.stage_kernels) == n and len(self.upsamples) == n - 1 == 4):
            bad.append("stage_channels/depths/kernels need 5 entries and upsamples 4")
        bad += [
            f"stage channel {c} is not a multiple of head_dim {self.head_dim}"
            for c in self.channels
            if c % self.head_dim
        ]
        if self.model_output_type not in ("v", "x0"):
            bad.append(f"model_output_type={self.model_output_type!r} (expected 'v' or 'x0')")
        if self.default_num_inference_steps < 1:
            bad.append(f"default_num_inference_steps={self.default_num_inference_steps} (expected >= 1)")
        if bad:
            raise ValueError(f"diffusion video decoder config: unsupported values: {'; '.join(bad)}")

    @property
    def channels(self) -> list[int]:
        return [*self.stage_channels, self.stage5_width]

    @property
    def stage5_width(self) -> int:
        return self.stage5_channels if self.stage5_channels is not None else self.stage_channels[-1]


class LinearPixelShuffleUpsample(nn.Module):
    def __init__(self, in_channels: int, stride: geo.Stride, reduction: int) -> None:
        super().__init__()
        self.stride: geo.Stride = (int(stride[0]), int(stride[1]), int(stride[2]))
        self.proj = nn.Linear(in_channels, math.prod(stride) * in_channels // reduction)

    def __call__(self, x: mx.array, drop_leading_frame: bool = True) -> mx.array:
        """The duplicate first frame of a temporal x2 is dropped only for a tile holding t=0."""
        x = geo.pixel_shuffle(self.proj(x), self.stride)
        return x[:, 1:] if self.stride[0] == 2 and drop_leading_frame else x


class AdaLNZero(nn.Module):
    def __init__(self, dim: int, t_emb_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(t_emb_dim, NUM_CHUNKS * dim)

    def __call__(self, t_emb: mx.array) -> list[mx.array]:
        """(B, t_emb_dim) -> 7 × (B, 1, 1, 1, dim)."""
        return [c[:, None, None, None, :] for c in mx.split(self.proj(nn.silu(t_emb)), NUM_CHUNKS, axis=-1)]


class DiffusionNABlock(nn.Module):
    """``x += context_proj(ctx)``; ``x += attn(mod(norm1 x))``; ``x += mlp(mod(norm2 x))`` — ungated residuals."""

    def __init__(self, dim: int, kernel_size: geo.Stride, context_channels: int, head_dim: int) -> None:
        super().__init__()
        self.context_proj = nn.Linear(context_channels, dim)
        self.scale_shift_table = mx.zeros((NUM_CHUNKS, dim))
        self.norm1 = nn.RMSNorm(dim, eps=1e-6)
        self.attn = NeighborhoodAttention3D(dim, kernel_size, head_dim)
        self.norm2 = nn.RMSNorm(dim, eps=1e-6)
        self.mlp = SwiGLU(dim, mlp_hidden(dim))

    def __call__(self, x: mx.array, context: mx.array, modulation: list[mx.array], w_chunks: int) -> mx.array:
        scale_msa, shift_msa, _, scale_mlp, shift_mlp, _, _ = (
            m + self.scale_shift_table[i].astype(m.dtype) for i, m in enumerate(modulation)
        )
        x = x + self.context_proj(context)
        if w_chunks > 1:
            x = w_chunked_attention_residual(x, self.attn, self.norm1, scale_msa, shift_msa, w_chunks)
        else:
            x = x + self.attn(modulate(self.norm1(x), scale_msa, shift_msa))
        return x + self.mlp(modulate(self.norm2(x), scale_mlp, shift_mlp))


class DiffusionVideoDecoder(nn.Module):
    def __init__(self, args: DiffusionVideoDecoderArgs) -> None:
        super().__init__()
        self.args = args
        a = args
        self.patch_size = a.patch_size
        self.per_channel_statistics = PerChannelStatistics(a.in_channels)
        self.conv_in = nn.Linear(a.in_channels, a.stage_channels[0])
        self.det_stages = [
            [NABlock(a.stage_channels[s], a.stage_kernels[s], a.head_dim) for _ in range(a.stage_depths[s])]
            for s in range(4)
        ]
        self.upsamples = [LinearPixelShuffleUpsample(a.stage_channels[s], *a.upsamples[s]) for s in range(4)]
        self.t_embedder = PixArtAlphaCombinedTimestepSizeEmbeddings(embedding_dim=a.t_emb_dim)
        c5, pixels = a.stage5_width, a.out_channels * a.patch_size**2
        self.conv_in_x_t = nn.Linear(pixels, c5)
        self.shared_adaln = AdaLNZero(c5, a.t_emb_dim)
        self.diff_blocks = [
            DiffusionNABlock(c5, a.stage5_kernel, a.stage_channels[-1], a.head_dim) for _ in range(a.stage_depths[-1])
        ]
        self.norm_out = nn.RMSNorm(c5, eps=1e-6)
        self.conv_out = nn.Linear(c5, pixels)
        self.ghost_latent_frames = (a.stage_kernels[0][0] // 2) * 2
        self.stage_min_tile_sizes = geo.all_stages_min_tile_size(a.stage_kernels, a.upsamples, a.stage5_kernel)
        stride3 = a.upsamples[3][0]
        self.tile_min_sizes = geo.compute_tile_min_size(a.stage_kernels[3], a.stage5_kernel, stride3)
        self.tile_halos = geo.compute_tile_halos(
            a.stage_kernels[3], a.stage_depths[3], a.stage5_kernel, a.stage_depths[-1], stride3
        )

    def timesteps(self) -> list[float]:
        """``linspace(1, 1/N, N)`` in float32, as the reference's buffer."""
        n = self.args.default_num_inference_steps
        return [float(v) for v in np.linspace(1.0, 1.0 / n, n).astype(np.float32)]

    def stages_0_to_2(self, latent: mx.array, record: Any = None) -> mx.array:
        """Normalised (ghost-padded) latent (B, T, H, W, C) -> stage-4 input feature."""
        x = self.conv_in(self.per_channel_statistics.un_normalize(latent))
        for s in range(3):
            for block in self.det_stages[s]:
                x = block(x)
            x = self.upsamples[s](x, drop_leading_frame=True)
            if record:
                record(f"upsamples.{s}", x)
        return x

    def stage_4(self, feat: mx.array, is_origin: bool, pad_trailing: bool) -> mx.array:
        """Stage-4 feature tile -> stage-5 context, with the ghost frames cropped (deferred: at least K5_t kept)."""
        for block in self.det_stages[3]:
            feat = block(feat)
        ctx = self.upsamples[3](feat, drop_leading_frame=is_origin)
        if pad_trailing:
            ctx = geo.crop_trailing_ghost(ctx, self.ghost_latent_frames, TIME_SCALE, self.args.stage5_kernel[0])
        return ctx

    def diffusion_step(self, context: mx.array, x_t: mx.array, t: float, w_chunks: int) -> mx.array:
        """One stage-5 evaluation: pixel-space x_t (B, F, H, W, out) at time t -> the prediction (same shape)."""
        x = self.conv_in_x_t(patchify(x_t, self.patch_size))
        batch = x.shape[0]
        scaled = mx.full((batch,), self.args.timestep_scale_multiplier * t, dtype=mx.float32)
        modulation = self.shared_adaln(self.t_embedder(scaled, hidden_dtype=x.dtype))
        for block in self.diff_blocks:
            x = block(x, context, modulation, w_chunks)
        return unpatchify(self.conv_out(self.norm_out(x)), self.patch_size)

    def _euler(self, x_t: mx.array, out: mx.array, t_now: float, t_next: float) -> mx.array:
        """Euler from t_now to t_next in float32; an "x0" prediction becomes the velocity (x_t - x0) / t_now."""
        x32, out32 = x_t.astype(mx.float32), out.astype(mx.float32)
        v = out32 if self.args.model_output_type == "v" else (x32 - out32) / t_now
        return (x32 - (t_now - t_next) * v).astype(x_t.dtype)

    def decode_tile(
        self, feat: mx.array, x_t: mx.array, is_origin: bool, pad_trailing: bool, w_chunks: int
    ) -> mx.array:
        """Stage 4 + the diffusion steps on one stage-4 tile from its initial stage-5 canvas ``x_t``."""
        context = self.stage_4(feat, is_origin, pad_trailing)
        steps = self.timesteps()
        for t_now, t_next in itertools.pairwise(steps):
            x_t = self._euler(x_t, self.diffusion_step(context, x_t, t_now, w_chunks), t_now, t_next)
        out = self.diffusion_step(context, x_t, steps[-1], w_chunks)
        return out if self.args.model_output_type == "x0" else self._euler(x_t, out, steps[-1], 0.0)

    def __call__(
        self,
        latent: mx.array,
        generator: NoiseGenerator | None = None,
        w_chunks: int = CHUNKED_EAGER_W_CHUNKS,
        intermediates: dict[str, mx.array] | None = None,
    ) -> mx.array:
        """Untiled decode of a normalised latent (B, T, H, W, C) to (B, 8(T-1)+1, 32H, 32W, out) in [-1, 1]."""
        from mlx_ltx_core.model.video_vae.diffusion_tiled import decode_untiled

        return decode_untiled(self, latent, generator, w_chunks, intermediates)

    def tiled_decode(
        self,
        latent: mx.array,
        tiling: TileSizeConfig | None,
        generator: NoiseGenerator | None = None,
        w_chunks: int = CHUNKED_EAGER_W_CHUNKS,
    ) -> Iterator[mx.array]:
        """Frame chunks (B, f, 32H, 32W, out) of the reference's tiled decode (stage-4 tiles, pixel blend)."""
        from mlx_ltx_core.model.video_vae.diffusion_tiled import decode_chunks

        return decode_chunks(self, latent, generator, w_chunks, tiling)
