"""Per-modality transformer inputs (ports ltx_core/model/transformer/modality.py)."""

from __future__ import annotations

from dataclasses import dataclass

import mlx.core as mx


@dataclass(frozen=True)
class Modality:
    """One modality's (video or audio) input to ``LTXModel``.

    latent:          (B, T, C) patchified latent tokens (noisy + appended conditioning tokens).
    sigma:           (B,) the step's sigma: drives the other modality's A/V gate and LTX-2.3's prompt AdaLN
                     (0 for a frozen modality, v1.2.0 semantics).
    timesteps:       (B, T, 1) or (B, T) per-token sigma · denoise mask.
    positions:       (B, n_dims, T, 2) [start, end) per token: video (seconds, y px, x px), audio (seconds).
    context:         (B, L, D_ctx) prompt embeddings.
    enabled:         False skips this modality's blocks (guidance passes that reuse a result).
    context_mask:    optional (B, L) 1 = token, 0 = padding (or an additive float bias).
    attention_mask:  optional (B, T, T) self-attention strengths in [0, 1] (conditioning attention strength).
    keyframes_mask:  optional (B, T, 1) nonzero on single-pixel-frame tokens (the target's first latent frame,
                     generated keyframe slots): they get ``keyframes_abs_pos_embedding`` (LTX-2.5).
    """

    latent: mx.array
    sigma: mx.array
    timesteps: mx.array
    positions: mx.array
    context: mx.array
    enabled: bool = True
    context_mask: mx.array | None = None
    attention_mask: mx.array | None = None
    keyframes_mask: mx.array | None = None


def batch_size(video: Modality | None, audio: Modality | None) -> int:
    """B of the inputs: the video's, else the audio's."""
    first = video if video is not None else audio
    if first is None:
        raise ValueError("pass at least one of video and audio")
    return first.latent.shape[0]
