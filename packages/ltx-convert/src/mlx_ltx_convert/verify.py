"""``ltx-convert verify``: recompute every shard's sha256 of a model folder (or of one component folder)."""

from __future__ import annotations

import os
from pathlib import Path

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_core.component_format import CONFIG_NAME, MODEL_INDEX_NAME, recover_swaps
from mlx_ltx_core.loader import ComponentError, check_component, model_components


def verify(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Check sizes, shard headers against the index, and every sha256; returns (component folder, shards) pairs.

    Raises ConversionError naming the first file that does not match.
    """
    path = Path(path)
    recover_swaps(path)  # a killed `convert --overwrite` may have left the model beside its name
    if (path / MODEL_INDEX_NAME).exists():
        folders = [path / name for name in _model_components(path)]
    elif (path / CONFIG_NAME).exists():
        folders = [path]
    else:
        raise ConversionError(f"{path}: no {MODEL_INDEX_NAME} or {CONFIG_NAME}; pass a folder written by ltx-convert")
    checked = []
    for folder in folders:
        try:
            parsed = check_component(folder, hashes=True)  # the same check as `ltx info --verify`
        except ComponentError as e:
            raise ConversionError(str(e)) from e
        checked.append((str(folder.relative_to(path)) if folder != path else folder.name, len(parsed.shards)))
    return checked


def _model_components(path: Path) -> list[str]:
    try:
        return model_components(path)
    except ComponentError as e:
        raise ConversionError(str(e)) from e
