"""Quantization at conversion time: which weights the recipe covers, their packed shapes, and the MLX affine kernel.

The recipe is each component's (``ComponentSpec.quantizable``): for the transformer, the attention and feed-forward
Linears of the blocks; AdaLN tables and timestep embedders, patchify/proj_out, caption projections, norms and gates
stay in the float dtype, and so does every component not named in ``components``. ``mixed`` keeps the layers the
component marks sensitive one step higher (4-bit → 8-bit, 8-bit → float); the per-layer bits are recorded in
``config.json`` so the loader re-applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlx_ltx_convert.errors import ConversionError

BITS = (4, 8)
GROUP_SIZES = (32, 64, 128)


@dataclass(frozen=True)
class QuantizeOptions:
    """The quantization recipe: ``bits`` (4 or 8), ``group_size``, ``mixed`` (edge blocks one step higher) and the
    ``components`` it applies to."""

    bits: int
    group_size: int = 64
    mixed: bool = False
    components: tuple[str, ...] = ("transformer",)

    def __post_init__(self) -> None:
        if self.bits not in BITS:
            raise ConversionError(f"bits={self.bits} is not supported; use 4 or 8", "bits")
        if self.group_size not in GROUP_SIZES:
            raise ConversionError(f"group_size={self.group_size} is not supported; use 32, 64 or 128", "group_size")

    def layer_bits(self, spec: Any, config: dict[str, Any], key: str, shape: tuple[int, ...]) -> int | None:
        """Bits of the weight at ``key`` (a component key) under the recipe, or None to keep it in float."""
        if spec.name not in self.components or spec.quantizable is None or not key.endswith(".weight"):
            return None
        path = key.removesuffix(".weight")
        if len(shape) != 2 or shape[1] % self.group_size or not spec.quantizable(path, shape):
            return None
        if self.mixed and spec.sensitive is not None and spec.sensitive(path, config):
            return 8 if self.bits == 4 else None
        return self.bits

    def config_block(self, layer_bits: dict[str, int]) -> dict[str, Any] | None:
        """The ``quantization`` block of config.json: defaults plus each layer whose bits differ (mixed)."""
        if not layer_bits:
            return None
        block: dict[str, Any] = {"group_size": self.group_size, "bits": self.bits, "mode": "affine"}
        block["recipe"] = "mixed" if self.mixed else "default"
        for path, bits in sorted(layer_bits.items()):
            if bits != self.bits:
                block[path] = {"group_size": self.group_size, "bits": bits, "mode": "affine"}
        return block


def packed_entries(
    key: str, shape: tuple[int, ...], bits: int, group_size: int, dtype: str
) -> list[tuple[str, str, tuple[int, ...]]]:
    """The three tensors that replace a quantized ``<path>.weight`` (out, in): packed uint32 weight, scales, biases."""
    path = key.removesuffix(".weight")
    out, fan_in = shape
    groups = (out, fan_in // group_size)
    return [
        (key, "U32", (out, fan_in * bits // 32)),
        (f"{path}.scales", dtype, groups),
        (f"{path}.biases", dtype, groups),
    ]


def quantize_weight(weight: Any, bits: int, group_size: int) -> tuple[np.ndarray, Any, Any]:
    """MLX affine quantization of one (out, in) mx.array; returns (packed uint32 numpy, scales, biases) as mx arrays."""
    import mlx.core as mx

    packed, scales, biases = mx.quantize(weight, group_size=group_size, bits=bits)
    mx.eval(packed, scales, biases)
    return np.array(packed), scales, biases
