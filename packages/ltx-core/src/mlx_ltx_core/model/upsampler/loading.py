"""Load and save a latent upsampler as a "latent_upsampler" component folder (docs/format.md).

The folder's ``config.json`` holds the upscaler file's flat ``config`` verbatim; spatial x2, x1.5 and temporal x2
upscalers are all this one component type, told apart by their config (folders ``spatial_upscaler_x2``, …).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentFolder, build_component, save_component
from mlx_ltx_core.model.upsampler.model import LatentUpsampler, LatentUpsamplerArgs

COMPONENT = "latent_upsampler"


def build_latent_upsampler(folder: ComponentFolder) -> LatentUpsampler:
    """The upsampler of a component folder's config (no weights; ltx-convert checks key coverage with it)."""
    return LatentUpsampler(LatentUpsamplerArgs.from_dict(folder.config))


def load_latent_upsampler(
    path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None
) -> LatentUpsampler:
    """``LatentUpsampler`` from a "latent_upsampler" component folder: strict, eager unless lazy."""
    return build_component(path, COMPONENT, build_latent_upsampler, lazy=lazy, dtype=dtype)


def save_latent_upsampler(
    path: str | os.PathLike,
    model: LatentUpsampler,
    config: dict[str, Any],
    *,
    quantization: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` with the verbatim flat upscaler ``config`` as a "latent_upsampler" component folder."""
    weights = dict(tree_flatten(model.parameters()))
    return save_component(path, COMPONENT, config, weights, quantization=quantization, overwrite=overwrite)
