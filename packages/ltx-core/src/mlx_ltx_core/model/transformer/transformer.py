"""The dual-stream audio-video DiT block (ports ltx_core/model/transformer/transformer.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.guidance.perturbations import BatchedPerturbationConfig, PerturbationType
from mlx_ltx_core.model.transformer import ops
from mlx_ltx_core.model.transformer.adaln import adaln_embedding_coefficient
from mlx_ltx_core.model.transformer.attention import Attention
from mlx_ltx_core.model.transformer.feed_forward import FeedForward
from mlx_ltx_core.model.transformer.rope import LTXRopeType
from mlx_ltx_core.model.transformer.transformer_args import TransformerArgs
from mlx_ltx_core.utils import rms_norm


@dataclass(frozen=True)
class TransformerConfig:
    """One stream's geometry inside a block."""

    dim: int
    heads: int
    d_head: int
    context_dim: int
    apply_gated_attention: bool = False
    cross_attention_adaln: bool = False
    ff_bias: bool = True


def ada_values(table: mx.array, timestep: mx.array, rows: slice) -> list[mx.array]:
    """``table`` (k, D) + ``timestep`` (B, T, k·D) → the selected rows, each (B, T, D)."""
    b, t, _ = timestep.shape
    k = table.shape[0]
    values = table[rows][None, None].astype(timestep.dtype) + timestep.reshape(b, t, k, -1)[:, :, rows]
    return [values[:, :, i] for i in range(values.shape[2])]


class BasicAVTransformerBlock(nn.Module):
    def __init__(
        self,
        idx: int,
        video: TransformerConfig | None = None,
        audio: TransformerConfig | None = None,
        rope_type: LTXRopeType = LTXRopeType.INTERLEAVED,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        self.idx, self.norm_eps = idx, norm_eps
        self.cross_attention_adaln = any(c is not None and c.cross_attention_adaln for c in (video, audio))
        attn = lambda q, c, ctx, gated: Attention(q, ctx, c.heads, c.d_head, norm_eps, rope_type, gated)  # noqa: E731
        if video is not None:
            self.attn1 = attn(video.dim, video, None, video.apply_gated_attention)
            self.attn2 = attn(video.dim, video, video.context_dim, video.apply_gated_attention)
            self.ff = FeedForward(video.dim, video.dim, bias=video.ff_bias)
            self.scale_shift_table = mx.zeros((adaln_embedding_coefficient(video.cross_attention_adaln), video.dim))
            if self.cross_attention_adaln:
                self.prompt_scale_shift_table = mx.zeros((2, video.dim))
        if audio is not None:
            self.audio_attn1 = attn(audio.dim, audio, None, audio.apply_gated_attention)
            self.audio_attn2 = attn(audio.dim, audio, audio.context_dim, audio.apply_gated_attention)
            self.audio_ff = FeedForward(audio.dim, audio.dim, bias=audio.ff_bias)
            self.audio_scale_shift_table = mx.zeros(
                (adaln_embedding_coefficient(audio.cross_attention_adaln), audio.dim)
            )
            if self.cross_attention_adaln:
                self.audio_prompt_scale_shift_table = mx.zeros((2, audio.dim))
        if video is not None and audio is not None:
            # Both directions use the audio stream's heads (Q: one stream, K/V: the other).
            self.audio_to_video_attn = attn(video.dim, audio, audio.dim, video.apply_gated_attention)
            self.video_to_audio_attn = attn(audio.dim, audio, video.dim, audio.apply_gated_attention)
            self.scale_shift_table_a2v_ca_audio = mx.zeros((5, audio.dim))
            self.scale_shift_table_a2v_ca_video = mx.zeros((5, video.dim))

    def __call__(
        self,
        video: TransformerArgs | None,
        audio: TransformerArgs | None,
        perturbations: BatchedPerturbationConfig,
    ) -> tuple[TransformerArgs | None, TransformerArgs | None]:
        vx = video.x if video is not None else None
        ax = audio.x if audio is not None else None
        # The streams that run (enabled, with tokens); vx / ax are None exactly when video / audio are.
        run_v = video if video is not None and video.enabled and video.x.size > 0 else None
        run_a = audio if audio is not None and audio.enabled and audio.x.size > 0 else None
        if run_v is not None:
            vx = self._self_and_text_attention(run_v.x, run_v, "", PerturbationType.SKIP_VIDEO_SELF_ATTN, perturbations)
        if run_a is not None:
            ax = self._self_and_text_attention(
                run_a.x, run_a, "audio_", PerturbationType.SKIP_AUDIO_SELF_ATTN, perturbations
            )
        if video is not None and audio is not None and vx is not None and ax is not None:
            run_a2v = run_v is not None and ax.size > 0
            run_v2a = run_a is not None and vx.size > 0
            if run_a2v or run_v2a:
                vx, ax = self._audio_video_attention(vx, ax, video, audio, run_a2v, run_v2a, perturbations)
        if run_v is not None and vx is not None:
            vx = self._feed_forward(vx, run_v, self.scale_shift_table, self.ff)
        if run_a is not None and ax is not None:
            ax = self._feed_forward(ax, run_a, self.audio_scale_shift_table, self.audio_ff)
        return (
            replace(video, x=vx) if video is not None else None,
            replace(audio, x=ax) if audio is not None else None,
        )

    def _self_and_text_attention(
        self, x: mx.array, args: TransformerArgs, prefix: str, skip: PerturbationType, ptb: BatchedPerturbationConfig
    ) -> mx.array:
        table = getattr(self, f"{prefix}scale_shift_table")
        shift, scale, gate = ada_values(table, args.timesteps, slice(0, 3))
        all_skipped = ptb.all_in_batch(skip, self.idx)
        partly = not all_skipped and ptb.any_in_batch(skip, self.idx)
        attn_out = getattr(self, f"{prefix}attn1")(
            ops.modulate(x, scale, shift, self.norm_eps),
            pe=args.positional_embeddings,
            mask=args.self_attention_mask,
            perturbation_mask=ptb.mask_like(skip, self.idx, x) if partly else None,
            all_perturbed=all_skipped,
        )
        x = x + attn_out * gate
        return x + self._text_attention(x, args, prefix, table)

    def _text_attention(self, x: mx.array, args: TransformerArgs, prefix: str, table: mx.array) -> mx.array:
        attn2 = getattr(self, f"{prefix}attn2")
        if not self.cross_attention_adaln:
            kv = self._text_kv(attn2, args, prefix, lambda: args.context)
            return attn2(rms_norm(x, self.norm_eps), context=args.context, mask=args.context_mask, kv=kv)
        # LTX-2.3: the query is modulated by rows 6-8, the (un-normalized) context by the prompt AdaLN.
        shift_q, scale_q, gate = ada_values(table, args.timesteps, slice(6, 9))
        prompt_table = getattr(self, f"{prefix}prompt_scale_shift_table")
        query = ops.modulate(x, scale_q, shift_q, self.norm_eps)
        if args.prompt_timestep is None:  # use_prompt_adaln_single false: the static table alone, K/V per prompt
            shift_kv, scale_kv = prompt_table[0].astype(x.dtype), prompt_table[1].astype(x.dtype)
            static = lambda: ops.scale_shift(args.context, scale_kv, shift_kv)  # noqa: E731
            kv = self._text_kv(attn2, args, prefix, static)
            return attn2(query, context=static() if kv is None else None, mask=args.context_mask, kv=kv) * gate
        shift_kv, scale_kv = ada_values(prompt_table, args.prompt_timestep, slice(0, 2))  # σ-dependent context
        context = ops.scale_shift(args.context, scale_kv, shift_kv)
        return attn2(query, context=context, mask=args.context_mask) * gate

    def _text_kv(
        self, attn2: Attention, args: TransformerArgs, prefix: str, context: Callable[[], mx.array]
    ) -> tuple[mx.array, mx.array] | None:
        """The text K/V from the stage's cache (computed at the first step), or None (no cache: computed inline)."""
        if args.text_kv_cache is None:
            return None
        key = f"block{self.idx}.{prefix}text_kv"
        return args.text_kv_cache.get(key, (args.context,), lambda: attn2.context_kv(context()))

    def _audio_video_attention(
        self,
        vx: mx.array,
        ax: mx.array,
        video: TransformerArgs,
        audio: TransformerArgs,
        run_a2v: bool,
        run_v2a: bool,
        ptb: BatchedPerturbationConfig,
    ) -> tuple[mx.array, mx.array]:
        # Both directions read the streams as they were after text attention.
        vn, an = rms_norm(vx, self.norm_eps), rms_norm(ax, self.norm_eps)
        if run_a2v and not ptb.all_in_batch(PerturbationType.SKIP_A2V_CROSS_ATTN, self.idx):
            v_in, gate = self._av_modulate(vn, video, self.scale_shift_table_a2v_ca_video, slice(0, 2))
            a_in, _ = self._av_modulate(an, audio, self.scale_shift_table_a2v_ca_audio, slice(0, 2))
            out = self.audio_to_video_attn(
                v_in, context=a_in, pe=video.cross_positional_embeddings, k_pe=audio.cross_positional_embeddings
            )
            vx = vx + out * gate * ptb.mask_like(PerturbationType.SKIP_A2V_CROSS_ATTN, self.idx, vx)
        if run_v2a and not ptb.all_in_batch(PerturbationType.SKIP_V2A_CROSS_ATTN, self.idx):
            a_in, gate = self._av_modulate(an, audio, self.scale_shift_table_a2v_ca_audio, slice(2, 4))
            v_in, _ = self._av_modulate(vn, video, self.scale_shift_table_a2v_ca_video, slice(2, 4))
            out = self.video_to_audio_attn(
                a_in, context=v_in, pe=audio.cross_positional_embeddings, k_pe=video.cross_positional_embeddings
            )
            ax = ax + out * gate * ptb.mask_like(PerturbationType.SKIP_V2A_CROSS_ATTN, self.idx, ax)
        return vx, ax

    @staticmethod
    def _av_modulate(
        x_norm: mx.array, args: TransformerArgs, table: mx.array, rows: slice
    ) -> tuple[mx.array, mx.array]:
        """Rows 0-1 (A→V) or 2-3 (V→A) are (scale, shift) — note the order; row 4 is the gate."""
        assert args.cross_scale_shift_timestep is not None and args.cross_gate_timestep is not None  # A/V inputs
        scale, shift = ada_values(table[:4], args.cross_scale_shift_timestep, rows)
        (gate,) = ada_values(table[4:], args.cross_gate_timestep, slice(None))
        return ops.scale_shift(x_norm, scale, shift), gate

    def _feed_forward(self, x: mx.array, args: TransformerArgs, table: mx.array, ff: FeedForward) -> mx.array:
        shift, scale, gate = ada_values(table, args.timesteps, slice(3, 6))
        return x + ff(ops.modulate(x, scale, shift, self.norm_eps)) * gate
