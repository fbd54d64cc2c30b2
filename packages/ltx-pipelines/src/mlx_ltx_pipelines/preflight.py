"""Refuse, before loading anything, a generation whose estimated peak memory exceeds the limit, with the figures
and the options that would fit.

The denoising stage's peak is the transformer's weights (the folder's tensor bytes, as loaded) plus its working
set: per stacked sample, a block's largest activations (the feed-forward hidden layer, 4·D per token, and one
attention score matrix per head, T², at the activation width) and the residual streams, with a 2x margin for MLX's
queued buffers. With ``low_memory`` the transformer's weights are its resident part plus two block groups
(docs/low_memory.md); a refusal suggests the mode when it would fit. The decode stage's peak comes from the VAE's
own estimate (docs/video_vae.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.types import VideoLatentShape, VideoPixelShape

GB = 1e9
_WORKING_MARGIN = 2.0


@dataclass(frozen=True)
class MemoryEstimate:
    stage: str
    weights: int
    working: int
    streamed_weights: int | None = None  # denoise: the weights held in low-memory mode

    @property
    def streamed_total(self) -> int:
        return self.working + (self.weights if self.streamed_weights is None else self.streamed_weights)

    @property
    def total(self) -> int:
        return self.weights + self.working


def denoise_estimate(ledger: ModelLedger, shape: VideoPixelShape, passes: int, with_audio: bool) -> MemoryEstimate:
    """One denoising stage at ``shape`` with ``passes`` samples stacked per forward (in the ledger's mode)."""
    from mlx_ltx_core.model.transformer.streaming import streamed_weight_bytes

    folder = ledger.component("transformer")
    config = folder.config
    heads = config.get("num_attention_heads", 32)
    width = heads * config.get("attention_head_dim", 128)
    latent = VideoLatentShape.from_pixel_shape(shape, latent_channels=config.get("in_channels", 128))
    tokens = latent.token_count() + (round(shape.frames / shape.fps * 25) if with_audio else 0)
    itemsize = 2 if ledger.dtype is None else ledger.dtype.size
    per_sample = (tokens * width * (4 + 4) + heads * tokens * tokens) * itemsize
    working = int(_WORKING_MARGIN * passes * per_sample)
    streamed = streamed_weight_bytes(folder)
    return MemoryEstimate("denoise", streamed if ledger.low_memory else folder.total_size, working, streamed)


def decode_estimate(ledger: ModelLedger, shape: VideoPixelShape, tiling: str) -> MemoryEstimate:
    from mlx_ltx_core.model.video_vae import estimate_decode_peak_bytes, tiling_for
    from mlx_ltx_core.model.video_vae.args import VideoDecoderArgs

    folder = ledger.component("video_decoder")
    config = folder.config
    args = VideoDecoderArgs.from_dict(config)
    latent = VideoLatentShape.from_pixel_shape(shape, latent_channels=config.get("latent_channels", 128))
    latent_shape = latent.to_mlx_shape()
    preset = tiling_for(tiling, args, latent_shape)
    working = estimate_decode_peak_bytes(args, latent_shape, preset)
    return MemoryEstimate("decode", folder.total_size, working)


# What would make a stage fit, by the Python names of the knobs; a front end (the CLI) passes its own wording.
FIXES = {
    "low_memory": "low_memory=True (the transformer's blocks read from disk a group at a time)",
    "quantize": "quantized transformer weights (convert with QuantizeOptions(bits=8), or 4)",
    "size": "a smaller height/width or num_frames",
    "tiling": "tiling='aggressive'",
    "limit": "a larger limit",
}


class MemoryLimitError(ValueError):
    """A stage's estimated peak exceeds the limit: ``estimate``, ``limit`` and the ``fixes`` keys (of ``FIXES``)."""

    def __init__(self, estimate: MemoryEstimate, limit: int, fixes: tuple[str, ...]):
        self.estimate, self.limit, self.fixes = estimate, limit, fixes
        super().__init__(self.describe(FIXES))

    def describe(self, wording: dict[str, str]) -> str:
        """The one-line message with each fix in ``wording`` (keys of ``FIXES``)."""
        e, tries = self.estimate, [wording[f] for f in self.fixes if f != "limit"]
        return (
            f"estimated peak memory of the {e.stage} stage is {_size(e.total)} (weights {_size(e.weights)} "
            f"+ working {_size(e.working)}) over the {_size(self.limit)} limit; try {' or '.join(tries)}, "
            f"or {wording['limit']}"
        )


def check_memory(estimates: list[MemoryEstimate], limit: int, quantized: bool, tiling: str = "auto") -> None:
    """``MemoryLimitError`` (a ValueError naming the stage, the figures and what would fit) when a stage exceeds
    ``limit``; a fix already in force (quantized weights, ``tiling='aggressive'``, low memory) is not suggested,
    and low memory only when every stage would then fit."""
    worst = max(estimates, key=lambda e: e.total)
    if worst.total <= limit:
        return
    if worst.stage == "denoise":
        fixes = ("size", "limit") if quantized else ("quantize", "size", "limit")
        if _streaming_fits(estimates, limit):
            fixes = ("low_memory", *fixes)
    else:
        fixes = ("size", "limit") if tiling == "aggressive" else ("tiling", "limit")
    raise MemoryLimitError(worst, limit, fixes)


def _streaming_fits(estimates: list[MemoryEstimate], limit: int) -> bool:
    """Low memory is not yet in force (it would hold fewer weights) and every stage fits with it."""
    saves = any(e.streamed_weights is not None and e.streamed_weights < e.weights for e in estimates)
    return saves and all(e.streamed_total <= limit for e in estimates)


def _size(n: int) -> str:
    return f"{n / GB:.1f} GB" if n >= 0.1 * GB else f"{n / 1e6:.1f} MB"
