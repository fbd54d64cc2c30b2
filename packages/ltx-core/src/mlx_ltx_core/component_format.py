"""The component folder and model folder format, owned here (docs/format.md); pure: JSON and file names, no MLX.

A component folder holds ``config.json`` (the reference's sub-config verbatim, an ``mlx_ltx`` block naming the
component, and a ``quantization`` block when quantized), safetensors shards of at most 5 GB in MLX layout, and
``model.safetensors.index.json`` (weight map, shard sizes and sha256). A model folder holds ``model_index.json``
and one component folder per part. Both writers (``loader.save_component`` and ltx-convert's streaming writer)
build their files with these functions, and every reader parses them through ``read_component`` /
``read_model_index``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
INDEX_NAME = "model.safetensors.index.json"
MODEL_INDEX_NAME = "model_index.json"
MAX_SHARD_BYTES = 5 * 1024**3
_OWN_KEYS = ("mlx_ltx", "quantization")

T = TypeVar("T")


class ComponentError(ValueError):
    """A component folder that cannot be loaded; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class ComponentFolder:
    """A parsed component folder: ``config`` is the reference sub-config without our own blocks, ``info`` the
    ``mlx_ltx`` block, ``quantization`` the recorded quantization (None: not quantized), ``index`` the index JSON."""

    path: Path
    component: str
    config: dict[str, Any]
    info: dict[str, Any]
    quantization: dict[str, Any] | None
    index: dict[str, Any]

    @property
    def shards(self) -> list[str]:
        return sorted(set(self.index["weight_map"].values()))

    @property
    def total_size(self) -> int:
        """Bytes of all tensors, as the index records them."""
        return int(self.index["metadata"]["total_size"])


# ---- writing --------------------------------------------------------------------------------------------------


def shard_names(count: int) -> list[str]:
    """``model.safetensors`` for one shard, else ``model-00001-of-0000N.safetensors``, …"""
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


def split_shards(items: Iterable[T], nbytes: Callable[[T], int], max_bytes: int = MAX_SHARD_BYTES) -> list[list[T]]:
    """Consecutive groups of at most ``max_bytes`` (a larger item gets a shard of its own), in the given order."""
    shards: list[list[T]] = [[]]
    size = 0
    for item in items:
        n = nbytes(item)
        if shards[-1] and size + n > max_bytes:
            shards.append([])
            size = 0
        shards[-1].append(item)
        size += n
    return shards


def config_json(
    config: dict[str, Any],
    component: str,
    info: dict[str, Any] | None = None,
    quantization: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """config.json: the sub-config, the ``mlx_ltx`` block (format version, component, ``info``), ``quantization``."""
    full = {**config, "mlx_ltx": {"format_version": FORMAT_VERSION, "component": component, **(info or {})}}
    if quantization:
        full["quantization"] = quantization
    return full


def index_json(weight_map: dict[str, str], total_size: int, shards: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The index: ``metadata`` (total bytes, ``{shard: {"size", "sha256"}}``) and the sorted tensor → shard map."""
    return {"metadata": {"total_size": total_size, "shards": shards}, "weight_map": dict(sorted(weight_map.items()))}


def write_component_json(folder: Path, config: dict[str, Any], index: dict[str, Any]) -> None:
    """config.json, then the index last: a folder whose index is missing does not load."""
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=1))
    (folder / INDEX_NAME).write_text(json.dumps(index, indent=1))


def write_model_index(folder: Path, index: dict[str, Any]) -> None:
    (folder / MODEL_INDEX_NAME).write_text(json.dumps(index, indent=1))


# ---- reading --------------------------------------------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    """One of the format's JSON files; missing or invalid is a ``ComponentError`` naming the file."""
    if not path.exists() and not path.is_symlink():
        raise ComponentError(f"{path}: missing; this is not a converted component folder (run ltx-convert)")
    try:
        value = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ComponentError(f"{path}: invalid JSON ({e.msg} at line {e.lineno}); re-convert") from e
    except UnicodeDecodeError as e:
        raise ComponentError(f"{path}: not a text file ({e.reason}); re-convert") from e
    except OSError as e:  # a symlink loop, a folder, no permission
        raise ComponentError(f"{path}: cannot be read ({e.strerror}); re-convert or fix the file") from e
    return _expect(value, dict, path, "the file")


def _expect(value: Any, kind: type, path: Path, what: str) -> Any:
    """``value`` when it is a ``kind``, else a ComponentError naming the file and the entry (a hand-edited JSON)."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ComponentError(
            f"{path}: {what} is {type(value).__name__} {json.dumps(value)[:40]}, expected {kind.__name__}; re-convert"
        )
    return value


def _check_index_types(path: Path, index: dict[str, Any]) -> None:
    """The index's entries have the types the readers use (weight_map: str → str, shards: {size: int})."""
    for key, shard in _expect(index.get("weight_map", {}), dict, path, "'weight_map'").items():
        _expect(shard, str, path, f"'weight_map'[{key!r}]")
    metadata = _expect(index.get("metadata", {}), dict, path, "'metadata'")
    for shard, entry in _expect(metadata.get("shards", {}), dict, path, "'metadata.shards'").items():
        if "size" in _expect(entry, dict, path, f"'metadata.shards'[{shard!r}]"):
            _expect(entry["size"], int, path, f"'metadata.shards'[{shard!r}].size")
    if "total_size" in metadata:
        _expect(metadata["total_size"], int, path, "'metadata.total_size'")


def read_component(path: str | os.PathLike, component: str | None = None) -> ComponentFolder:
    """Parse ``config.json`` and the index of a component folder and check its shards exist with the recorded sizes.

    ``component`` (e.g. "transformer") rejects a folder that holds another component.
    """
    path = Path(path)
    if not path.is_dir():
        raise ComponentError(f"{path}: not a folder; pass a component folder written by ltx-convert")
    config = read_json(path / CONFIG_NAME)
    index = read_json(path / INDEX_NAME)
    _check_index_types(path / INDEX_NAME, index)
    info = config.get("mlx_ltx")
    if not isinstance(info, dict) or "component" not in info:
        raise ComponentError(
            f"{path / CONFIG_NAME}: no 'mlx_ltx.component' entry; convert the checkpoint with ltx-convert"
        )
    _expect(info["component"], str, path / CONFIG_NAME, "'mlx_ltx.component'")
    if _expect(info.get("format_version", 0), int, path / CONFIG_NAME, "'mlx_ltx.format_version'") > FORMAT_VERSION:
        raise ComponentError(
            f"{path}: format version {info['format_version']} is newer than this mlx-ltx-core reads "
            f"({FORMAT_VERSION}); upgrade mlx-ltx-core"
        )
    if component is not None and info["component"] != component:
        raise ComponentError(f"{path}: holds a '{info['component']}' component, expected '{component}'")
    _check_shards(path, index)
    sub = {k: v for k, v in config.items() if k not in _OWN_KEYS}
    return ComponentFolder(path, info["component"], sub, info, config.get("quantization"), index)


def _check_shards(path: Path, index: dict[str, Any]) -> None:
    sizes = index.get("metadata", {}).get("shards", {})
    for shard in sorted(set(index.get("weight_map", {}).values())):
        file = path / shard
        if not file.exists():
            raise ComponentError(f"{file}: shard listed in {INDEX_NAME} is missing; re-run the conversion")
        want = sizes.get(shard, {}).get("size")
        if want is not None and file.stat().st_size != want:
            raise ComponentError(
                f"{file}: {file.stat().st_size} bytes, the index records {want} (truncated or replaced); re-convert"
            )


def component_name(folder: str | os.PathLike) -> str | None:
    """The ``mlx_ltx.component`` a folder's config.json names, or None when the folder is not a component folder
    (no config.json, or one without our block: e.g. a LoRA downloaded beside another tool's config)."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        return None
    info = read_json(path).get("mlx_ltx")
    return info.get("component") if isinstance(info, dict) else None


def read_model_index(folder: str | os.PathLike) -> dict[str, Any]:
    """A model folder's ``model_index.json``; missing is a ``ComponentError`` saying how to make one.

    A replacement of the folder that a killed ``ltx convert --overwrite`` left half done is finished first
    (``folder_swap.finish_swaps``: only the converter's own journal-listed folders are touched).
    """
    recover_swaps(folder)
    path = Path(folder) / MODEL_INDEX_NAME
    if not path.is_file() and not path.is_symlink():
        raise ComponentError(
            f"{folder}: no {MODEL_INDEX_NAME}; pass a folder made by `ltx convert` (or a checkpoint to convert)"
        )
    index = read_json(path)
    _check_model_index_types(path, index)
    return index


def recover_swaps(folder: str | os.PathLike) -> None:
    """Finish a dead converter's interrupted swap of ``folder``; a read-only location is left as it is."""
    from mlx_ltx_core.folder_swap import finish_swaps

    with contextlib.suppress(OSError):  # e.g. read-only: the folder is then read as it stands
        finish_swaps(folder)


def _check_model_index_types(path: Path, index: dict[str, Any]) -> None:
    """The model index's entries have the types the readers use (components: {name: {component: str, size: int}})."""
    for name, entry in _expect(index.get("components", {}), dict, path, "'components'").items():
        _expect(entry, dict, path, f"'components'[{name!r}]")
        for key, kind in (("component", str), ("size", int), ("tensors", int), ("quantization", dict)):
            if entry.get(key) is not None:
                _expect(entry[key], kind, path, f"'components'[{name!r}].{key}")
