"""Gradient checkpointing per transformer block (the reference's ``set_gradient_checkpointing``: each
``BasicAVTransformerBlock`` recomputed in the backward pass; preprocessing and the output head are not).

Each block keeps its class's math and its parameter paths (so LoRA keys do not move): its class is swapped for
a subclass whose call goes through ``mlx.nn.utils.checkpoint``, which passes the block's trainable (LoRA)
parameters as explicit inputs — a plain ``mx.checkpoint`` around the block would silently give them zero
gradients. The hidden tokens of both streams are explicit inputs too; every other block input (contexts, AdaLN
timesteps, RoPE tables, masks) depends on no trainable parameter and is closed over.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import mlx.core as mx
import mlx.nn as nn
from mlx.nn.utils import checkpoint

_CLASSES: dict[type, type] = {}


def _checkpointed_class(cls: type) -> type:
    if cls in _CLASSES:
        return _CLASSES[cls]

    def call(self: Any, video: Any, audio: Any, perturbations: Any) -> tuple[Any, Any]:
        empty = mx.zeros((0,))

        def inner(vx: mx.array, ax: mx.array) -> list[mx.array]:
            v = dataclasses.replace(video, x=vx) if video is not None else None
            a = dataclasses.replace(audio, x=ax) if audio is not None else None
            v, a = cls.__call__(self, v, a, perturbations)
            return [v.x if v is not None else empty, a.x if a is not None else empty]

        vx, ax = checkpoint(self, inner)(
            video.x if video is not None else empty, audio.x if audio is not None else empty
        )
        return (
            dataclasses.replace(video, x=vx) if video is not None else None,
            dataclasses.replace(audio, x=ax) if audio is not None else None,
        )

    sub = type(f"Checkpointed{cls.__name__}", (cls,), {"__call__": call, "_checkpoint_base": cls})
    _CLASSES[cls] = sub
    return sub


def enable_gradient_checkpointing(model: nn.Module, enabled: bool = True) -> None:
    """Recompute every ``model.transformer_blocks[i]`` in the backward pass (or stop doing so)."""
    for block in model["transformer_blocks"]:
        base = getattr(type(block), "_checkpoint_base", type(block))
        block.__class__ = _checkpointed_class(base) if enabled else base
