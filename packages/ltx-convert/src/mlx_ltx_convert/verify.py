"""``ltx-convert verify``: recompute every shard's sha256 of a model folder (or of one component folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.model_folder import MODEL_INDEX
from mlx_ltx_core.loader import CONFIG_NAME, ComponentError, load_weights, read_component, verify_hashes


def verify(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Check sizes, shard headers against the index, and every sha256; returns (component folder, shards) pairs.

    Raises ConversionError naming the first file that does not match.
    """
    path = Path(path)
    if (path / MODEL_INDEX).exists():
        index = json.loads((path / MODEL_INDEX).read_text())
        folders = [path / name for name in index.get("components", {})]
    elif (path / CONFIG_NAME).exists():
        folders = [path]
    else:
        raise ConversionError(f"{path}: no {MODEL_INDEX} or {CONFIG_NAME}; pass a folder written by ltx-convert")
    checked = []
    for folder in folders:
        try:
            parsed = read_component(folder)
            load_weights(parsed)  # shard headers agree with the index (memory-mapped, nothing read)
            verify_hashes(parsed)
        except ComponentError as e:
            raise ConversionError(str(e)) from e
        checked.append((str(folder.relative_to(path)) if folder != path else folder.name, len(parsed.shards)))
    return checked
