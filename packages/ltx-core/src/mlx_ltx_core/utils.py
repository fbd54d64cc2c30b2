"""Small shared helpers (ports ltx_core/utils.py): RMS norm without weight, config checks, known keys, ``free``."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import mlx.core as mx
import mlx.nn as nn

T = TypeVar("T")


def rms_norm(x: mx.array, eps: float = 1e-6) -> mx.array:
    """RMS-normalize over the last axis with no learned weight (the reference's ``rms_norm``)."""
    return mx.fast.rms_norm(x, None, eps)


def layer_dtype(layer: nn.Module) -> mx.Dtype:
    """The float dtype a linear or conv layer computes in: its weight's, or a quantized layer's scales'."""
    return layer["scales"].dtype if "scales" in layer else layer["weight"].dtype


def check_config_values(config: dict[str, Any], required: dict[str, Any], where: str) -> None:
    """Reject, in one error listing every offender, config values the reference does not support."""
    bad = [f"{k}={config.get(k)!r} (expected {v!r})" for k, v in required.items() if config.get(k) != v]
    if bad:
        raise ValueError(f"{where}: unsupported config values: {'; '.join(bad)}")


def known_keys(cls: type, config: Mapping[str, Any], exclude: Collection[str] = ()) -> dict[str, Any]:
    """The entries of ``config`` that name fields of the dataclass ``cls`` (less ``exclude``); the rest is dropped."""
    names = {f.name for f in dataclasses.fields(cls)} - set(exclude)
    return {k: v for k, v in config.items() if k in names}


def known_keys_from_dict(cls: type[T], config: Mapping[str, Any], **overrides: Any) -> T:
    """mlx-lm's ``Args.from_dict``: ``cls`` from the keys of ``config`` it knows, then ``overrides``."""
    return cls(**{**known_keys(cls, config), **overrides})


def free(*_models: object) -> None:
    """Return the memory of dropped models to the system: call after ``del`` of the last reference."""
    gc.collect()
    mx.clear_cache()
