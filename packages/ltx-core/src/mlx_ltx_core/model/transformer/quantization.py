"""Which transformer layers are quantized, and how (MLX affine 4/8-bit)."""

from __future__ import annotations

import re
from collections.abc import Callable

import mlx.nn as nn

# The bulk of the weights: attention projections and feed-forward matrices inside the blocks. AdaLN tables and
# timestep embedders, patchify/proj_out, caption projections, q/k norms and the per-head gates stay in bf16.
_BLOCK_LINEAR = re.compile(
    r"transformer_blocks\.\d+\.("
    r"(attn1|attn2|audio_attn1|audio_attn2|audio_to_video_attn|video_to_audio_attn)\.(to_q|to_k|to_v|to_out\.0)"
    r"|(ff|audio_ff)\.net\.(0\.proj|2))$"
)


def default_predicate(group_size: int) -> Callable[[str, nn.Module], bool]:
    """The default recipe: block attention and feed-forward Linears whose input width divides ``group_size``."""

    def predicate(path: str, module: nn.Module) -> bool:
        return (
            isinstance(module, nn.Linear)
            and bool(_BLOCK_LINEAR.match(path))
            and module.weight.shape[-1] % group_size == 0
        )

    return predicate


def quantize_transformer(
    model: nn.Module,
    bits: int,
    group_size: int = 64,
    predicate: Callable[[str, nn.Module], bool] | None = None,
) -> dict[str, int | str]:
    """Quantize in place; returns the ``quantization`` block recorded in the component's config.json."""
    if bits not in (4, 8):
        raise ValueError(f"bits={bits} is not supported; use 4 or 8")
    if group_size not in (32, 64, 128):
        raise ValueError(f"group_size={group_size} is not supported; use 32, 64 or 128")
    nn.quantize(model, group_size=group_size, bits=bits, class_predicate=predicate or default_predicate(group_size))
    return {"group_size": group_size, "bits": bits, "mode": "affine"}
