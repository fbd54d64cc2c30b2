"""Small shared helpers (ports ltx_core/utils.py): RMS norm without weight, config checks."""

from __future__ import annotations

from typing import Any

import mlx.core as mx


def rms_norm(x: mx.array, eps: float = 1e-6) -> mx.array:
    """RMS-normalize over the last axis with no learned weight (the reference's ``rms_norm``)."""
    return mx.fast.rms_norm(x, None, eps)


def check_config_values(config: dict[str, Any], required: dict[str, Any], where: str) -> None:
    """Reject, in one error listing every offender, config values the reference does not support."""
    bad = [f"{k}={config.get(k)!r} (expected {v!r})" for k, v in required.items() if config.get(k) != v]
    if bad:
        raise ValueError(f"{where}: unsupported config values: {'; '.join(bad)}")
