"""Sequence-parallel LTXModel over ``mx.distributed`` ranks (ports ltx_core/multigpu/transformer/sequence_parallel.py).

Every rank holds the whole model and 1/N of the video tokens (an uneven split is allowed: the first T mod N ranks
get one more); the audio tokens, few, stay whole on every rank, as in the reference. Video self-attention and the
video→audio cross-attention gather every rank's keys and values (after RoPE); audio→video, text attention,
feed-forward and AdaLN only read local tokens. The velocities are gathered once per call, so every rank leaves
with the same full output and runs the same sampler step. The reference pads to a multiple of N and exchanges
heads with all-to-all; MLX's ring backend has all-gather, and gathering K/V needs no padding mask.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.guidance.perturbations import BatchedPerturbationConfig
from mlx_ltx_core.model.transformer.attention import Attention
from mlx_ltx_core.model.transformer.constants import ConstantsCache, cached
from mlx_ltx_core.model.transformer.modality import Modality
from mlx_ltx_core.model.transformer.model import LTXModel


def sequence_partition(total: int, world: int) -> list[int]:
    """Tokens per rank: ``total // world``, one more on the first ``total % world`` ranks."""
    if total < world:
        raise ValueError(f"{total} video tokens cannot be split over {world} ranks; use fewer ranks or a larger video")
    return [total // world + (r < total % world) for r in range(world)]


def gather_tokens(x: mx.array, counts: list[int], axis: int, group: mx.distributed.Group) -> mx.array:
    """This rank's ``counts[rank]`` tokens along ``axis`` → every rank's, in rank order (shape[axis] = sum)."""
    most = max(counts)
    if x.shape[axis] < most:  # all_gather needs equal shapes: pad, then cut each rank's share out
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, most - x.shape[axis])
        x = mx.pad(x, widths)
    parts = mx.distributed.all_gather(mx.expand_dims(x, 0), group=group)
    index = [slice(None)] * x.ndim
    shares = []
    for r, n in enumerate(counts):
        index[axis] = slice(0, n)
        shares.append(parts[r][tuple(index)])
    return mx.concatenate(shares, axis=axis)


class SequenceParallelLTXModel(nn.Module):
    """``LTXModel``'s call on this rank's share of the video tokens; returns the full (B, T, C) velocities."""

    def __init__(self, model: LTXModel, group: mx.distributed.Group):
        super().__init__()
        self.model, self.group = model, group
        self.args = model.args

    @property
    def rank(self) -> int:
        return self.group.rank()

    @property
    def world(self) -> int:
        return self.group.size()

    @contextmanager
    def stage_constants(self) -> Iterator[ConstantsCache]:
        with self.model.stage_constants() as cache:
            yield cache

    def __call__(
        self,
        video: Modality | None,
        audio: Modality | None,
        perturbations: BatchedPerturbationConfig | None = None,
    ) -> tuple[mx.array | None, mx.array | None]:
        if video is None:  # audio alone: every rank runs it whole
            return self.model(video, audio, perturbations)
        counts = sequence_partition(video.latent.shape[1], self.world)
        gather = partial(gather_tokens, counts=counts, axis=2, group=self.group)  # (B, H, S, d) K/V
        attentions = self._gathering_attentions()
        for attention in attentions:
            attention.gather_kv = gather
        try:
            vx, ax = self.model(self.local_video(video, counts), audio, perturbations)
        finally:
            for attention in attentions:
                attention.gather_kv = None
        assert vx is not None  # a video input gives a video output
        return gather_tokens(vx, counts, axis=1, group=self.group), ax

    def local_video(self, video: Modality, counts: list[int]) -> Modality:
        """The video modality's tokens of this rank: latent, timesteps, positions, keyframe marks and the
        self-attention mask's query rows (its key columns stay whole). Inside a stage the per-stage arrays are
        sliced once, so the model's own constants cache still hits at every step."""
        start = sum(counts[: self.rank])
        rows = slice(start, start + counts[self.rank])
        cache = self.model._constants
        keep = lambda name, a, take: None if a is None else cached(cache, f"sp.{name}", (a,), lambda: take(a))  # noqa: E731
        return replace(
            video,
            latent=video.latent[:, rows],
            timesteps=video.timesteps[:, rows],
            positions=keep("positions", video.positions, lambda p: p[:, :, rows]),
            attention_mask=keep("attention_mask", video.attention_mask, lambda m: m[:, rows]),
            keyframes_mask=keep("keyframes_mask", video.keyframes_mask, lambda m: m[:, rows]),
        )

    def _gathering_attentions(self) -> list[Attention]:
        """Attentions whose keys are video tokens: video self-attention and video→audio."""
        found = []
        for block in self.model.transformer_blocks:
            for name in ("attn1", "video_to_audio_attn"):
                if name in block:
                    found.append(block[name])
        return found


def sequence_parallel(model: LTXModel, group: mx.distributed.Group | None) -> LTXModel | SequenceParallelLTXModel:
    """``model`` split over ``group``'s ranks; ``model`` itself without a group or with a single rank."""
    if group is None or group.size() == 1:
        return model
    return SequenceParallelLTXModel(model, group)
