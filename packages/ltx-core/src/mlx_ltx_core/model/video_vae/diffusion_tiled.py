"""Decode flow of the 2.5 diffusion video decoder (ports ``DiffusionVideoDecoder._decode_pixels`` at v1.2.0).

Stages 0-2 run once on the floor- and ghost-padded latent; stage 3 and stage 5 run per tile of the stage-4 grid
(one tile when untiled); tiles are blended in pixel space and the result is cropped back to the content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mlx.core as mx

from mlx_ltx_core.model.video_vae import diffusion_geometry as geo
from mlx_ltx_core.model.video_vae.ops import NoiseGenerator, normal_noise

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.diffusion_decoder import DiffusionVideoDecoder

TIME_SCALE, SPACE_SCALE = 8, 32


def accumulator_dtype(feature_dtype: mx.Dtype) -> mx.Dtype:
    """The blend buffer's dtype: float16 for bfloat16 features (as the reference), else the features' own."""
    return mx.float16 if feature_dtype == mx.bfloat16 else feature_dtype


def _check(dec: DiffusionVideoDecoder, latent: mx.array) -> None:
    if latent.ndim != 5 or latent.shape[-1] != dec.args.in_channels:
        raise ValueError(
            f"latent has shape {tuple(latent.shape)}; the diffusion decoder takes (B, T, H, W, {dec.args.in_channels})"
        )


def _crop_to(pixels: mx.array, frames: int, height: int, width: int) -> mx.array:
    """``crop_pixels_to_content`` without recorded pads: T from the end, H and W symmetrically."""
    pixels = geo.resize_axis(pixels, 1, frames, "repeat_last")[0]
    pixels = geo.resize_axis(pixels, 2, height, "symmetric")[0]
    return geo.resize_axis(pixels, 3, width, "symmetric")[0]


def decode_untiled(
    dec: DiffusionVideoDecoder,
    latent: mx.array,
    generator: NoiseGenerator | None,
    w_chunks: int,
    intermediates: dict[str, mx.array] | None = None,
) -> mx.array:
    """(B, T, H, W, C) -> (B, 8(T-1)+1, 32H, 32W, out); one noise draw of the stage-5 canvas from ``generator``."""
    _check(dec, latent)
    record = intermediates.__setitem__ if intermediates is not None else None
    b, t, h, w, _ = latent.shape
    padded, (_, h_pad, w_pad) = geo.ensure_min_latent_shape(latent, dec.stage_min_tile_sizes)
    _, tp, hp, wp, _ = padded.shape
    strides = [u.stride for u in dec.upsamples]
    s4 = geo.stage4_thw(strides, tp, hp, wp)
    ghosted = geo.resize_axis(padded, 1, tp + dec.ghost_latent_frames, "repeat_last")[0]
    feat = dec.stages_0_to_2(ghosted, record)
    full = ((tp - 1) * TIME_SCALE + 1, hp * SPACE_SCALE, wp * SPACE_SCALE)
    canvas = geo.stage5_pixel_shape(s4, strides[3], dec.patch_size, dec.args.stage5_kernel[0], True, True)
    out_c = dec.args.out_channels
    if len(dec.timesteps()) == 1 and dec.args.model_output_type == "x0":
        x_t = normal_noise(generator, (b, *canvas, out_c), feat.dtype)
    else:  # one draw over the whole video, then fitted to the canvas as the reference does per tile
        x_t = normal_noise(generator, (b, *full, out_c), latent.dtype).astype(feat.dtype)
        x_t = geo.resize_axis(x_t, 1, canvas[0], "repeat_last")[0]
        x_t = geo.resize_axis(geo.resize_axis(x_t, 2, canvas[1], "symmetric")[0], 3, canvas[2], "symmetric")[0]
    pixels = dec.decode_tile(feat, x_t, is_origin=True, pad_trailing=True, w_chunks=w_chunks)
    pixels = _crop_to(pixels, *full).astype(accumulator_dtype(feat.dtype)).astype(latent.dtype)
    frames = min(full[0], (t - 1) * TIME_SCALE + 1)
    h0, w0 = h_pad.before * SPACE_SCALE, w_pad.before * SPACE_SCALE
    return pixels[:, :frames, h0 : h0 + h * SPACE_SCALE, w0 : w0 + w * SPACE_SCALE]
