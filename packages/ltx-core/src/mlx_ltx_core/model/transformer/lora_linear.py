"""Unfused LoRA adapters on a loaded Linear / QuantizedLinear: ``y = W·x + b + B·(A·x)`` (no reference
counterpart: the reference fuses; this keeps a quantized base exact instead of re-quantizing ``W + s·B·A``).

The layer keeps its class's behaviour and its parameter keys (``weight``, ``scales``, ``biases``, ``bias``) and
gains ``lora_A`` (r, in) and ``lora_B`` (out, r): several LoRAs are concatenated along the rank, each strength
folded into its B in float32. Both factors are stored in the layer's compute dtype, so the extra matmuls take
operands of that dtype like the base's.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.utils import layer_dtype


def _adapter(layer: nn.Module, x: mx.array) -> mx.array:
    return (x @ layer["lora_A"].T) @ layer["lora_B"].T


class UnfusedLoRALinear(nn.Linear):
    """``nn.Linear`` + unfused adapters."""

    def __call__(self, x: mx.array) -> mx.array:
        return super().__call__(x) + _adapter(self, x)


class UnfusedLoRAQuantizedLinear(nn.QuantizedLinear):
    """``nn.QuantizedLinear`` + unfused adapters (the quantized weight is used as stored)."""

    def __call__(self, x: mx.array) -> mx.array:
        return super().__call__(x) + _adapter(self, x)


def linear_shape(layer: nn.Module) -> tuple[int, int]:
    """(out, in) of a Linear or QuantizedLinear (a quantized weight packs 32 / bits values per uint32)."""
    w = layer["weight"]
    if isinstance(layer, nn.QuantizedLinear):
        return w.shape[0], w.shape[1] * 32 // layer.bits
    return w.shape[0], w.shape[1]


def add_adapters(layer: nn.Module, factors: Sequence[tuple[mx.array, mx.array, float]]) -> nn.Module:
    """Give ``layer`` (in place) the adapters of ``factors`` [(A (r, in), B (out, r), strength), …], added to any it
    has; returns it. The caller checks the shapes fit."""
    dtype = layer_dtype(layer)
    a = mx.concatenate([f[0].astype(mx.float32) for f in factors])
    b = mx.concatenate([f[2] * f[1].astype(mx.float32) for f in factors], axis=1)
    if "lora_A" in layer:
        a, b = mx.concatenate([layer["lora_A"], a.astype(dtype)]), mx.concatenate([layer["lora_B"], b], axis=1)
    if not isinstance(layer, UnfusedLoRALinear | UnfusedLoRAQuantizedLinear):
        layer.__class__ = UnfusedLoRAQuantizedLinear if isinstance(layer, nn.QuantizedLinear) else UnfusedLoRALinear
    layer.lora_A, layer.lora_B = a.astype(dtype), b.astype(dtype)
    return layer
