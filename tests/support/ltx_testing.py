"""Test helpers shared by every package's tests: golden files and parity assertions.

Goldens live in ``$LTX_GOLDENS`` (default: the committed ``tests/goldens``), one folder per family
(``transformer``, ``vae``, ``audio``, ``text``) with a ``manifest.json`` listing every case. Parity tests
parametrize over the manifest, so goldens regenerated with another ``--seed`` are picked up unchanged.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]


def goldens_root() -> Path:
    return Path(os.environ.get("LTX_GOLDENS", ROOT / "tests" / "goldens"))


@functools.cache
def manifest(family: str) -> dict[str, Any]:
    path = goldens_root() / family / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no goldens manifest at {path}: run `nox -s goldens` or set LTX_GOLDENS")
    return json.loads(path.read_text())


@functools.cache
def load(family: str, file: str) -> dict[str, np.ndarray]:
    """All tensors of one golden file as numpy arrays (float64 outputs stay float64)."""
    return load_file(str(goldens_root() / family / file))


def group(tensors: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The tensors under ``prefix.`` with the prefix removed (e.g. ``inputs``, ``outputs_f64``)."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def max_rel_error(actual: Any, expected: np.ndarray) -> float:
    """max|actual - expected| / max|expected| (computed in float64)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"shape {actual.shape} != reference {expected.shape}")
    scale = float(np.abs(expected).max()) or 1.0
    return float(np.abs(actual - expected).max()) / scale


def assert_parity(actual: Any, expected: np.ndarray, rel: float, label: str) -> float:
    """Assert max|Δ| ≤ rel·max|ref|; returns the measured relative error."""
    err = max_rel_error(actual, expected)
    assert err <= rel, f"{label}: max|Δ|/max|ref| = {err:.3e} > {rel:.0e}"
    return err
