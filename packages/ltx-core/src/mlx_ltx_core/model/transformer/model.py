"""The LTX-2 / 2.3 / 2.5 audio-video transformer and its x0 wrapper (ports ltx_core/model/transformer/model.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.guidance.perturbations import BatchedPerturbationConfig
from mlx_ltx_core.model.transformer import ops
from mlx_ltx_core.model.transformer.adaln import AdaLayerNormSingle, adaln_embedding_coefficient
from mlx_ltx_core.model.transformer.args import LTXModelArgs
from mlx_ltx_core.model.transformer.constants import ConstantsCache
from mlx_ltx_core.model.transformer.feed_forward import PixArtAlphaTextProjection
from mlx_ltx_core.model.transformer.modality import Modality, batch_size
from mlx_ltx_core.model.transformer.transformer import BasicAVTransformerBlock, TransformerConfig
from mlx_ltx_core.model.transformer.transformer_args import (
    ModalityModules,
    PreprocessorConfig,
    TransformerArgs,
    prepare,
)
from mlx_ltx_core.utils import layer_dtype


class LTXModel(nn.Module):
    """Velocity model: ``(video, audio) → (v_video, v_audio)``; either modality may be None."""

    def __init__(self, args: LTXModelArgs):
        super().__init__()
        self.args = args
        mt = args.model_type
        coef = adaln_embedding_coefficient(args.cross_attention_adaln)
        if mt.is_video_enabled():
            self._init_stream("", args.in_channels, args.out_channels, args.inner_dim, coef)
        if mt.is_audio_enabled():
            self._init_stream("audio_", args.audio_in_channels, args.audio_out_channels, args.audio_inner_dim, coef)
        if mt.is_video_enabled() and mt.is_audio_enabled():
            self.av_ca_video_scale_shift_adaln_single = AdaLayerNormSingle(args.inner_dim, 4)
            self.av_ca_audio_scale_shift_adaln_single = AdaLayerNormSingle(args.audio_inner_dim, 4)
            self.av_ca_a2v_gate_adaln_single = AdaLayerNormSingle(args.inner_dim, 1)
            self.av_ca_v2a_gate_adaln_single = AdaLayerNormSingle(args.audio_inner_dim, 1)
        video = (
            self._stream_config(
                args.inner_dim,
                args.num_attention_heads,
                args.attention_head_dim,
                args.cross_attention_dim,
                args.ff_bias,
            )
            if mt.is_video_enabled()
            else None
        )
        audio = (
            self._stream_config(
                args.audio_inner_dim,
                args.audio_num_attention_heads,
                args.audio_attention_head_dim,
                args.audio_cross_attention_dim,
                args.audio_ff_bias,
            )
            if mt.is_audio_enabled()
            else None
        )
        self.transformer_blocks = [
            BasicAVTransformerBlock(i, video, audio, args.rope_type, args.norm_eps) for i in range(args.num_layers)
        ]
        self._constants: ConstantsCache | None = None  # set inside ``stage_constants()``
        # False: AdaLN on every token's timestep (the reference's path; tests and benchmarks compare the two).
        self.distinct_timesteps = True
        # Runs the block loop; the low-memory loader (streaming.py) sets one that reads each group's weights from disk.
        self.block_stream: Callable[..., tuple[TransformerArgs | None, TransformerArgs | None]] | None = None

    @contextmanager
    def stage_constants(self, text_kv: bool = True) -> Iterator[ConstantsCache]:
        """Within: RoPE tables, the projected context and the attention biases are computed once per positions /
        context / mask array and reused at every step (a denoising stage passes the same arrays each step); with
        ``text_kv`` also each block's text K/V where the context does not depend on the step. Freed on exit."""
        self._constants = ConstantsCache(text_kv)
        try:
            yield self._constants
        finally:
            self._constants = None

    def _init_stream(self, prefix: str, in_channels: int, out_channels: int, dim: int, coef: int) -> None:
        a = self.args
        setattr(self, f"{prefix}patchify_proj", nn.Linear(in_channels, dim))
        if a.has_caption_projection:
            assert a.caption_channels is not None  # validate() requires it
            setattr(self, f"{prefix}caption_projection", PixArtAlphaTextProjection(a.caption_channels, dim))
        setattr(self, f"{prefix}adaln_single", AdaLayerNormSingle(dim, coef))
        if prefix == "" and a.use_keyframes_abs_pos_embedding:  # video only; zero-init in the reference
            self.keyframes_abs_pos_embedding = mx.zeros((1, dim))
        if a.has_prompt_adaln:
            setattr(self, f"{prefix}prompt_adaln_single", AdaLayerNormSingle(dim, 2))
        setattr(self, f"{prefix}scale_shift_table", mx.zeros((2, dim)))
        setattr(self, f"{prefix}proj_out", nn.Linear(dim, out_channels))

    def _stream_config(self, dim: int, heads: int, d_head: int, context_dim: int, ff_bias: bool) -> TransformerConfig:
        a = self.args
        return TransformerConfig(
            dim, heads, d_head, context_dim, a.apply_gated_attention, a.cross_attention_adaln, ff_bias
        )

    def __call__(
        self,
        video: Modality | None,
        audio: Modality | None,
        perturbations: BatchedPerturbationConfig | None = None,
        intermediates: dict[str, mx.array] | None = None,
    ) -> tuple[mx.array | None, mx.array | None]:
        """Velocities (B, T, C) per modality. ``intermediates``, when given, is filled with the preprocessed
        inputs (``pre.video.x``, ``pre.video.timesteps``, …) and every block's output (``block3.video_x``)."""
        mt = self.args.model_type
        if video is not None and not mt.is_video_enabled():
            raise ValueError("this transformer has no video stream (model_type AudioOnly); pass video=None")
        if audio is not None and not mt.is_audio_enabled():
            raise ValueError("this transformer has no audio stream (model_type VideoOnly); pass audio=None")
        if video is None and audio is None:
            raise ValueError("pass at least one of video and audio")
        v = self._prepare("", video, audio) if video is not None else None
        a = self._prepare("audio_", audio, video) if audio is not None else None
        if intermediates is not None:
            _record(intermediates, "pre.video", v)
            _record(intermediates, "pre.audio", a)
        batch = batch_size(video, audio)
        perturbations = perturbations or BatchedPerturbationConfig.empty(batch)
        if len(perturbations.perturbations) != batch:
            raise ValueError(f"{len(perturbations.perturbations)} perturbation configs for a batch of {batch}")
        v, a = (self.block_stream or run_blocks)(self.transformer_blocks, v, a, perturbations, intermediates)
        vx = self._output("", v) if v is not None else None
        ax = self._output("audio_", a) if a is not None else None
        return vx, ax

    def _prepare(self, prefix: str, modality: Modality, cross: Modality | None) -> TransformerArgs:
        a, video = self.args, prefix == ""
        av = a.model_type.is_video_enabled() and a.model_type.is_audio_enabled()
        other = "a2v" if video else "v2a"
        modules = ModalityModules(
            patchify_proj=getattr(self, f"{prefix}patchify_proj"),
            adaln=getattr(self, f"{prefix}adaln_single"),
            caption_projection=getattr(self, f"{prefix}caption_projection", None),
            prompt_adaln=getattr(self, f"{prefix}prompt_adaln_single", None),
            cross_scale_shift_adaln=getattr(
                self, f"av_ca_{'video' if video else 'audio'}_scale_shift_adaln_single", None
            ),
            cross_gate_adaln=getattr(self, f"av_ca_{other}_gate_adaln_single", None),
            keyframes_embedding=getattr(self, "keyframes_abs_pos_embedding", None) if video else None,
        )
        cfg = PreprocessorConfig(
            name="video" if video else "audio",
            inner_dim=a.inner_dim if video else a.audio_inner_dim,
            num_attention_heads=a.num_attention_heads if video else a.audio_num_attention_heads,
            max_pos=a.positional_embedding_max_pos if video else a.audio_positional_embedding_max_pos,
            theta=a.positional_embedding_theta,
            rope_type=a.rope_type,
            double_precision_rope=a.double_precision_rope,
            timestep_scale_multiplier=a.timestep_scale_multiplier,
            cross_pe_max_pos=max(a.positional_embedding_max_pos[0], a.audio_positional_embedding_max_pos[0])
            if av
            else None,
            audio_cross_attention_dim=a.audio_cross_attention_dim,
            av_ca_timestep_scale_multiplier=a.av_ca_timestep_scale_multiplier,
            distinct_timesteps=self.distinct_timesteps,
            dtype=layer_dtype(modules.patchify_proj),
        )
        return prepare(modules, cfg, modality, cross if av else None, self._constants)

    def _output(self, prefix: str, args: TransformerArgs) -> mx.array:
        """LayerNorm (no affine) modulated by the per-token embedded timestep, then ``proj_out``."""
        x = args.x
        table = getattr(self, f"{prefix}scale_shift_table")
        values = table[None, None].astype(x.dtype) + args.embedded_timestep[:, :, None]
        shift, scale = values[:, :, 0], values[:, :, 1]
        x = ops.scale_shift(mx.fast.layer_norm(x, None, None, self.args.norm_eps), scale, shift)
        return getattr(self, f"{prefix}proj_out")(x)


class X0Model(nn.Module):
    """Wraps ``LTXModel``: returns denoised latents ``x − v·timesteps`` (per token, computed in float32)."""

    def __init__(self, velocity_model: LTXModel):
        super().__init__()
        self.velocity_model = velocity_model

    def __call__(
        self,
        video: Modality | None,
        audio: Modality | None,
        perturbations: BatchedPerturbationConfig | None = None,
    ) -> tuple[mx.array | None, mx.array | None]:
        vx, ax = self.velocity_model(video, audio, perturbations)
        return (
            to_denoised(video.latent, vx, video.timesteps) if video is not None and vx is not None else None,
            to_denoised(audio.latent, ax, audio.timesteps) if audio is not None and ax is not None else None,
        )


def run_blocks(
    blocks: Sequence[BasicAVTransformerBlock],
    video: TransformerArgs | None,
    audio: TransformerArgs | None,
    perturbations: BatchedPerturbationConfig,
    intermediates: dict[str, mx.array] | None = None,
) -> tuple[TransformerArgs | None, TransformerArgs | None]:
    """``blocks`` in order; each block's outputs go to ``intermediates`` (``block3.video_x``) when given."""
    for block in blocks:
        video, audio = block(video, audio, perturbations)
        if intermediates is not None:
            intermediates.update({f"block{block.idx}.{n}_x": s.x for n, s in (("video", video), ("audio", audio)) if s})
    return video, audio


def to_denoised(sample: mx.array, velocity: mx.array, timesteps: mx.array) -> mx.array:
    """(B, T, C) sample and velocity, (B, T[, 1]) timesteps → (B, T, C) in the sample's dtype."""
    t = timesteps.astype(mx.float32)
    if t.ndim == sample.ndim - 1:
        t = t[..., None]
    return (sample.astype(mx.float32) - velocity.astype(mx.float32) * t).astype(sample.dtype)


def _record(store: dict[str, mx.array], prefix: str, args: TransformerArgs | None) -> None:
    if args is None:
        return
    for name in (
        "x",
        "context",
        "context_mask",
        "timesteps",
        "embedded_timestep",
        "cross_scale_shift_timestep",
        "cross_gate_timestep",
        "prompt_timestep",
        "self_attention_mask",
    ):
        if getattr(args, name) is not None:
            store[f"{prefix}.{name}"] = getattr(args, name)
    for name in ("positional_embeddings", "cross_positional_embeddings"):
        if getattr(args, name) is not None:
            store[f"{prefix}.{name}.cos"], store[f"{prefix}.{name}.sin"] = getattr(args, name)
