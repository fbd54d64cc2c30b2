"""LTX-2.5's auto-duration head: shot length in seconds from the connector outputs (ports ltx_core/duration_head/
and seconds_to_clamped_num_frames of ltx_pipelines/utils/helpers.py).

Keys are the duration-head file's with ``duration_head.`` removed; ``attention_pooler.cross_attn`` keeps torch's
``nn.MultiheadAttention`` layout (``in_proj_weight`` = q, k, v stacked), so nothing changes layout.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.loader import ComponentFolder, build_component
from mlx_ltx_core.types import VIDEO_SCALE_FACTORS

COMPONENT = "duration_head"


@dataclass(frozen=True)
class DurationHeadArgs:
    video_cross_attention_dim: int = 4096
    audio_cross_attention_dim: int = 2048
    pooler_hidden_dim: int = 256
    num_queries: int = 1
    num_pooler_heads: int = 4
    mlp_hidden: int = 256

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> DurationHeadArgs:
        """From the file's config: ``transformer`` widths and the optional ``duration_head`` section."""
        transformer, head = config.get("transformer", {}), config.get("duration_head", {})
        args = cls(
            video_cross_attention_dim=transformer.get("cross_attention_dim", 4096),
            audio_cross_attention_dim=transformer.get("audio_cross_attention_dim", 2048),
            **{k: head[k] for k in ("pooler_hidden_dim", "num_queries", "num_pooler_heads", "mlp_hidden") if k in head},
        )
        if args.pooler_hidden_dim % args.num_pooler_heads:
            raise ValueError(
                f"duration head: pooler_hidden_dim={args.pooler_hidden_dim} is not a multiple of "
                f"num_pooler_heads={args.num_pooler_heads}"
            )
        return args


class _MultiheadAttention(nn.Module):
    """torch's ``nn.MultiheadAttention`` (batch first, no mask, no dropout), its parameter names kept."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.in_proj_weight = mx.zeros((3 * dim, dim))
        self.in_proj_bias = mx.zeros((3 * dim,))
        self.out_proj = nn.Linear(dim, dim)

    def __call__(self, queries: mx.array, tokens: mx.array) -> mx.array:
        w, b = mx.split(self.in_proj_weight, 3), mx.split(self.in_proj_bias, 3)
        q, k, v = (x @ wi.T + bi for x, wi, bi in zip((queries, tokens, tokens), w, b, strict=True))
        heads = [x.reshape(x.shape[0], x.shape[1], self.num_heads, -1).transpose(0, 2, 1, 3) for x in (q, k, v)]
        out = mx.fast.scaled_dot_product_attention(*heads, scale=1 / math.sqrt(heads[0].shape[-1]))
        return self.out_proj(out.transpose(0, 2, 1, 3).reshape(q.shape))


class AttentionPooler(nn.Module):
    """``num_queries`` learnable tokens cross-attend every token (all valid: registers fill the padding)."""

    def __init__(self, hidden_dim: int, num_queries: int, num_heads: int):
        super().__init__()
        self.query_tokens = mx.zeros((num_queries, hidden_dim))
        self.cross_attn = _MultiheadAttention(hidden_dim, num_heads)

    def __call__(self, tokens: mx.array) -> mx.array:
        queries = mx.broadcast_to(self.query_tokens.astype(tokens.dtype), (tokens.shape[0], *self.query_tokens.shape))
        return self.cross_attn(queries, tokens)


class DurationHead(nn.Module):
    def __init__(self, args: DurationHeadArgs):
        super().__init__()
        self.args = args
        d = args.pooler_hidden_dim
        self.video_input_proj = nn.Linear(args.video_cross_attention_dim, d)
        self.video_modality_emb = mx.zeros((d,))
        self.audio_input_proj = nn.Linear(args.audio_cross_attention_dim, d)
        self.audio_modality_emb = mx.zeros((d,))
        self.attention_pooler = AttentionPooler(d, args.num_queries, args.num_pooler_heads)
        self.mlp_hidden = nn.Linear(d * args.num_queries, args.mlp_hidden)
        self.mlp_out = nn.Linear(args.mlp_hidden, 1)

    def __call__(self, video_tokens: mx.array | None = None, audio_tokens: mx.array | None = None) -> mx.array:
        """Connector outputs (B, T_v, video dim) and/or (B, T_a, audio dim) → predicted seconds (B,)."""
        groups = []
        if video_tokens is not None:
            groups.append(self.video_input_proj(video_tokens) + self.video_modality_emb)
        if audio_tokens is not None:
            groups.append(self.audio_input_proj(audio_tokens) + self.audio_modality_emb)
        if not groups:
            raise ValueError("the duration head needs video_tokens, audio_tokens or both")
        pooled = self.attention_pooler(mx.concatenate(groups, axis=1))
        hidden = nn.gelu_approx(self.mlp_hidden(pooled.reshape(pooled.shape[0], -1)))
        return mx.exp(self.mlp_out(hidden).squeeze(-1))  # trained on log-seconds


def seconds_to_num_frames(
    seconds: float, frame_rate: float, min_seconds: float = 1.0, max_seconds: float = 20.0
) -> int:
    """A predicted duration → frames on the VAE's 8k + 1 grid: clamped to [min, max] seconds, snapped down, and
    up instead when snapping down undershoots the minimum (the reference's auto-duration defaults: 1 s, 20 s)."""
    min_frames, max_frames = round(min_seconds * frame_rate), round(max_seconds * frame_rate)
    frames = max(min_frames, min(round(seconds * frame_rate), max_frames))
    step = VIDEO_SCALE_FACTORS.time
    frames = max(frames - 1, 0) // step * step + 1
    if frames < min_frames:
        frames = min(-(-(min_frames - 1) // step) * step + 1, max_frames)
    return frames


def _build(folder: ComponentFolder) -> DurationHead:
    return DurationHead(DurationHeadArgs.from_dict(folder.config))


def load_duration_head(path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None) -> DurationHead:
    """Build the head from a duration_head component folder (strict)."""
    return build_component(path, COMPONENT, _build, lazy=lazy, dtype=dtype)
