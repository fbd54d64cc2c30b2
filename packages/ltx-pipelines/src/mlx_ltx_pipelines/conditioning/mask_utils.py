"""Self-attention masks for appended conditioning tokens (ports ltx_core/conditioning/mask_utils.py) and the
pixel → latent attention-mask downsampling of IC-LoRA (ports ltx_pipelines/iclora_utils.py)."""

from __future__ import annotations

import math

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.conditioning.item import ConditioningError
from mlx_ltx_pipelines.types import LatentState, VideoLatentShape


def resolve_cross_mask(
    attention_mask: float | mx.array, num_new_tokens: int, batch_size: int, dtype: mx.Dtype
) -> mx.array:
    """A scalar, (M,) or (B|1, M) attention strength → (B, M)."""
    if isinstance(attention_mask, int | float) or attention_mask.ndim == 0:
        return mx.full((batch_size, num_new_tokens), float(attention_mask), dtype=dtype)
    mask = attention_mask.astype(dtype)
    if mask.ndim == 1:
        mask = mask[None]
    if mask.ndim != 2 or mask.shape[1] != num_new_tokens or mask.shape[0] not in (1, batch_size):
        raise ConditioningError(
            f"attention_mask of shape {tuple(attention_mask.shape)} must be a scalar, ({num_new_tokens},) or "
            f"({batch_size}, {num_new_tokens}): one strength per appended token"
        )
    return mx.broadcast_to(mask, (batch_size, num_new_tokens))


def update_attention_mask(
    latent_state: LatentState,
    attention_mask: float | mx.array | None,
    num_noisy_tokens: int,
    num_new_tokens: int,
    batch_size: int,
    dtype: mx.Dtype,
) -> mx.array | None:
    """The (B, N+M, N+M) mask after appending M tokens, or None when no mask is needed: without a new
    strength an existing mask is padded with full attention (1) so it keeps the sequence's size."""
    if attention_mask is None:
        if latent_state.attention_mask is None:
            return None
        cross = mx.ones((batch_size, num_new_tokens), dtype=dtype)
    else:
        cross = resolve_cross_mask(attention_mask, num_new_tokens, batch_size, dtype)
    return build_attention_mask(
        latent_state.attention_mask, num_noisy_tokens, num_new_tokens, latent_state.latent.shape[1], cross, dtype
    )


def build_attention_mask(
    existing_mask: mx.array | None,
    num_noisy_tokens: int,
    num_new_tokens: int,
    num_existing_tokens: int,
    cross_mask: mx.array,
    dtype: mx.Dtype,
) -> mx.array:
    """Blocks (rows attend to columns): existing↔existing kept (or 1), noisy↔new = ``cross_mask`` (B, M),
    earlier references↔new = 0, new↔new = 1."""
    b, n, m, nn = cross_mask.shape[0], num_existing_tokens, num_new_tokens, num_noisy_tokens
    top_left = mx.ones((b, n, n), dtype=dtype) if existing_mask is None else existing_mask.astype(dtype)
    cross = cross_mask.astype(dtype)
    top_right = mx.concatenate([mx.broadcast_to(cross[:, None, :], (b, nn, m)), mx.zeros((b, n - nn, m), dtype)], 1)
    bottom_left = mx.concatenate([mx.broadcast_to(cross[:, :, None], (b, m, nn)), mx.zeros((b, m, n - nn), dtype)], 2)
    top = mx.concatenate([top_left, top_right], axis=2)
    bottom = mx.concatenate([bottom_left, mx.ones((b, m, m), dtype=dtype)], axis=2)
    return mx.concatenate([top, bottom], axis=1)


def _area_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(out, in) averaging weights of area interpolation (adaptive average pooling bins)."""
    a = np.zeros((size_out, size_in), dtype=np.float32)
    for i in range(size_out):
        start, end = (i * size_in) // size_out, math.ceil((i + 1) * size_in / size_out)
        a[i, start:end] = 1.0 / (end - start)
    return a


def downsample_mask_video_to_latent(mask: mx.array, target_latent_shape: VideoLatentShape) -> mx.array:
    """Pixel-space mask video (B, F, H, W[, 1]) → per-token weights (B, F'·H'·W') of ``target_latent_shape``:
    area interpolation in space, frame 0 kept, the other frames averaged in groups of ``(F − 1) / (F' − 1)``."""
    if mask.ndim == 5:
        mask = mask[..., 0]
    b, f_pix, h, w = mask.shape
    f_lat, h_lat, w_lat = target_latent_shape.frames, target_latent_shape.height, target_latent_shape.width
    ah, aw = mx.array(_area_matrix(h, h_lat)), mx.array(_area_matrix(w, w_lat))
    spatial = ah @ mask.astype(mx.float32) @ aw.T  # (B, F, h_lat, w_lat)
    frames = spatial[:, :1]
    if f_pix > 1 and f_lat > 1:
        if (f_pix - 1) % (f_lat - 1):
            raise ConditioningError(
                f"mask video of {f_pix} frames does not fit {f_lat} latent frames: (frames − 1) must be a "
                f"multiple of {f_lat - 1}"
            )
        t = (f_pix - 1) // (f_lat - 1)
        rest = spatial[:, 1:].reshape(b, f_lat - 1, t, h_lat, w_lat).mean(axis=2)
        frames = mx.concatenate([frames, rest], axis=1)
    return frames.reshape(b, -1)
