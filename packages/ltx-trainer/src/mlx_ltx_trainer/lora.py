"""Trainable LoRA adapters, injected the way PEFT does in the reference trainer, and saved in the
Lightricks / ComfyUI format (``diffusion_model.<module>.lora_A/lora_B.weight``) that ``ltx generate --lora-path``
(mlx_ltx_pipelines.lora) and the reference's loader read.

PEFT semantics kept: a module is targeted when its full dotted name equals a pattern or ends with ``"." + pattern``
(so ``to_k`` hits every attention, ``attn1.to_k`` only the video self-attention); only Linear layers can be
targeted (a pattern naming another kind of module is an error, as in PEFT); adapters are float32 whatever the
base dtype; A ~ kaiming-uniform(a=√5) = U(−1/√in, 1/√in), B = 0; y = W·x + b + (alpha/rank)·B·A·dropout(x).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from mlx_ltx_core.model.transformer.lora_linear import linear_shape

LORA_PREFIX = "diffusion_model."


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` / ``nn.QuantizedLinear`` (``base``) plus float32 ``lora_A`` (rank, in) and
    ``lora_B`` (out, rank)."""

    def __init__(self, base: nn.Module, rank: int, alpha: float, dropout: float = 0.0, key: mx.array | None = None):
        super().__init__()
        out_features, in_features = linear_shape(base)
        self.base = base
        self.scale = alpha / rank
        self.dropout_p = dropout
        bound = 1.0 / math.sqrt(in_features)
        self.lora_A = mx.random.uniform(-bound, bound, (rank, in_features), key=key)
        self.lora_B = mx.zeros((out_features, rank))
        self.base.freeze()

    def __call__(self, x: mx.array) -> mx.array:
        y = self.base(x)
        h = x.astype(mx.float32)
        if self.dropout_p > 0 and self.training:
            h = nn.Dropout(self.dropout_p)(h)
        delta = (h @ self.lora_A.T) @ self.lora_B.T
        return (y.astype(mx.float32) + self.scale * delta).astype(y.dtype)


def matches(name: str, patterns: Sequence[str]) -> bool:
    """PEFT's list matching: the name equals a pattern or ends with ``.pattern``."""
    return any(name == p or name.endswith("." + p) for p in patterns)


def target_module_names(model: nn.Module, patterns: Sequence[str]) -> list[str]:
    """The Linear modules the patterns hit, in model order; errors as PEFT raises them."""
    names = []
    for name, module in model.named_modules():
        if not name or not matches(name, patterns):
            continue
        if isinstance(module, LoRALinear):
            continue
        if not isinstance(module, nn.Linear | nn.QuantizedLinear):
            raise ValueError(
                f"lora.target_modules: {name} is a {type(module).__name__}, not a Linear layer; only Linear layers "
                "can carry a LoRA (name their projections, e.g. attn1.to_q)"
            )
        names.append(name)
    if not names:
        raise ValueError(f"lora.target_modules: {list(patterns)} match no Linear layer of the transformer")
    return sorted(names, key=_natural)


def _natural(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in name.split(".")]


def _set(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent: Any = model
    for part in parent_name.split(".") if parent_name else []:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    if isinstance(parent, list):
        parent[int(leaf)] = module
    else:
        setattr(parent, leaf, module)


def inject_lora(
    model: nn.Module,
    rank: int,
    alpha: float,
    target_modules: Sequence[str],
    dropout: float = 0.0,
    seed: int | None = None,
) -> list[str]:
    """Freeze ``model`` and wrap every targeted Linear in a ``LoRALinear``; returns the wrapped module names.
    ``seed`` makes the A init reproducible (the reference draws it from the unseeded CPU generator)."""
    names = target_module_names(model, target_modules)
    model.freeze()
    key = mx.random.key(seed) if seed is not None else None
    for name in names:
        sub = None
        if key is not None:
            key, sub = mx.random.split(key)
        _set(model, name, LoRALinear(_get(model, name), rank, alpha, dropout, key=sub))
    return names


def _get(model: nn.Module, name: str) -> nn.Module:
    return dict(model.named_modules())[name]


def lora_modules(model: nn.Module) -> dict[str, LoRALinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def lora_weights(model: nn.Module) -> dict[str, mx.array]:
    """``{module}.lora_A`` / ``.lora_B`` → array for every adapter (the trainable parameters)."""
    out = {}
    for name, m in lora_modules(model).items():
        out[f"{name}.lora_A"], out[f"{name}.lora_B"] = m.lora_A, m.lora_B
    return out


def lora_state_dict(model: nn.Module, dtype: mx.Dtype = mx.bfloat16) -> dict[str, mx.array]:
    """The saved keys: ``diffusion_model.<module>.lora_A.weight`` (rank, in) / ``.lora_B.weight`` (out, rank)."""
    return {f"{LORA_PREFIX}{k}.weight": v.astype(dtype) for k, v in lora_weights(model).items()}


def save_lora(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    rank: int,
    alpha: float,
    precision: str = "bfloat16",
    target_modules: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write the adapters atomically (a sibling temp file renamed into place). Metadata: the strategy's keys (as
    strings, like the reference) plus ``lora_rank`` / ``lora_alpha`` (and ``lora_target_modules`` when given);
    readers that apply strength only (the reference, our pipelines) use scale 1, so a LoRA trained with
    alpha ≠ rank is applied at rank/alpha of its training strength."""
    dtype = {"bfloat16": mx.bfloat16, "float32": mx.float32}[precision]
    path = Path(path)
    tensors = lora_state_dict(model, dtype)
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    meta |= {"lora_rank": str(rank), "lora_alpha": str(alpha)}
    if target_modules is not None:
        meta["lora_target_modules"] = json.dumps(list(target_modules))
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.safetensors")
    try:
        mx.save_safetensors(str(tmp), tensors, metadata=meta)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_lora_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Load a saved adapter file (either precision) into the injected adapters, as float32; strict."""
    tensors = mx.load(str(path))
    assert isinstance(tensors, dict)
    wanted = lora_weights(model)
    got = {}
    for key, value in tensors.items():
        name = key.removeprefix(LORA_PREFIX).removesuffix(".weight")
        if name not in wanted:
            raise ValueError(f"{Path(path).name}: {key} has no adapter in this model (other target_modules?)")
        if tuple(value.shape) != tuple(wanted[name].shape):
            raise ValueError(f"{Path(path).name}: {key} is {tuple(value.shape)}, the adapter is {wanted[name].shape}")
        got[name] = value.astype(mx.float32)
    missing = sorted(set(wanted) - set(got))
    if missing:
        raise ValueError(f"{Path(path).name}: no {LORA_PREFIX}{missing[0]}.weight")
    for name, m in lora_modules(model).items():
        m.lora_A, m.lora_B = got[f"{name}.lora_A"], got[f"{name}.lora_B"]


def trainable_names(model: nn.Module) -> list[str]:
    return [k for k, _ in tree_flatten(model.trainable_parameters())]
