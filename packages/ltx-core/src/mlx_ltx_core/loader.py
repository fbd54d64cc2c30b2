"""Component folders: load (strict), quantize, verify and save the format of ``component_format`` (docs/format.md).

Loading is strict: a missing or unexpected key, a shape that does not match, or a dtype of the wrong kind (an integer
where a float weight belongs) is an error that names the keys.
The format's names, JSON files and readers are re-exported here for the loaders that import them from this module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from mlx_ltx_core.component_format import (
    CONFIG_NAME,
    FORMAT_VERSION,
    INDEX_NAME,
    MAX_SHARD_BYTES,
    MODEL_INDEX_NAME,
    ComponentError,
    ComponentFolder,
    config_json,
    index_json,
    read_component,
    read_model_index,
    shard_names,
    split_shards,
    write_component_json,
)

__all__ = [
    "CONFIG_NAME",
    "FORMAT_VERSION",
    "INDEX_NAME",
    "MAX_SHARD_BYTES",
    "ComponentError",
    "ComponentFolder",
    "apply_quantization",
    "build_component",
    "cast_weights",
    "check_component",
    "check_strict",
    "load_strict",
    "load_weights",
    "model_components",
    "read_component",
    "save_component",
    "sha256_file",
    "verify_hashes",
]


def load_weights(folder: ComponentFolder) -> dict[str, mx.array]:
    """All tensors of the folder, memory-mapped lazily (nothing is read until evaluated)."""
    weights: dict[str, mx.array] = {}
    for shard in folder.shards:
        try:
            # mx.load's stub unions every format it reads; a .safetensors file loads as a dict.
            weights.update(cast(dict[str, mx.array], mx.load(str(folder.path / shard))))
        except (RuntimeError, ValueError) as e:
            raise ComponentError(f"{folder.path / shard}: unreadable safetensors ({e}); re-convert") from e
    listed = set(folder.index["weight_map"])
    if listed != set(weights):
        diff = sorted(listed.symmetric_difference(weights))[:5]
        raise ComponentError(f"{folder.path}: shards and {INDEX_NAME} disagree on keys (e.g. {diff}); re-convert")
    return weights


def verify_hashes(folder: ComponentFolder) -> None:
    """Recompute every shard's sha256 and compare with the index (reads every byte)."""
    recorded = folder.index.get("metadata", {}).get("shards", {})
    for shard in folder.shards:
        want = recorded.get(shard, {}).get("sha256")
        if want is None:
            raise ComponentError(f"{folder.path / INDEX_NAME}: no sha256 recorded for {shard}")
        if sha256_file(folder.path / shard) != want:
            raise ComponentError(f"{folder.path / shard}: sha256 mismatch (corrupted file); re-convert")


def check_component(path: str | os.PathLike, hashes: bool = False) -> ComponentFolder:
    """What `ltx-convert verify` and `ltx info [--verify]` check, one function for both: the config and index, the
    shards' sizes, their headers' keys against the index (memory-mapped, no tensor read) and, with ``hashes``, every
    shard's sha256 (reads every byte)."""
    folder = read_component(path)
    load_weights(folder)
    if hashes:
        verify_hashes(folder)
    return folder


def model_components(folder: str | os.PathLike) -> list[str]:
    """The components a model folder's ``model_index.json`` lists; one without a format version or without any
    component (e.g. ``{}``) is refused."""
    index = read_model_index(folder)
    if not isinstance(index.get("format_version"), int) or not index.get("components"):
        raise ComponentError(
            f"{Path(folder) / MODEL_INDEX_NAME}: lists no format_version or no components; not a model folder "
            "written by ltx-convert (re-convert)"
        )
    return list(index["components"])


def apply_quantization(model: nn.Module, quantization: dict[str, Any] | None, weights: dict[str, mx.array]) -> None:
    """Re-apply the recorded quantization: exactly the layers whose ``scales`` the weights carry.

    A layer with its own entry (``quantization[path] = {"bits": 8, "group_size": 64}``, a mixed recipe) uses it.
    """
    if not quantization:
        return

    def predicate(path: str, _module: nn.Module) -> bool | dict[str, Any]:
        if f"{path}.scales" not in weights:
            return False
        layer = quantization.get(path)
        return {"mode": quantization.get("mode", "affine"), **layer} if isinstance(layer, dict) else True

    nn.quantize(
        model,
        group_size=quantization["group_size"],
        bits=quantization["bits"],
        mode=quantization.get("mode", "affine"),
        class_predicate=predicate,
    )


def load_strict(model: nn.Module, weights: dict[str, mx.array], where: str | os.PathLike) -> None:
    """Load ``weights`` into ``model``; any missing/unexpected key, wrong shape or wrong dtype is one error naming
    them."""
    check_strict(model, weights, where)
    model.load_weights(list(weights.items()), strict=True)


def check_strict(model: nn.Module, weights: dict[str, mx.array], where: str | os.PathLike) -> None:
    """``load_strict``'s checks alone (keys, shapes and dtype kinds; lazy ``weights`` are not read)."""
    expected = dict(tree_flatten(model.parameters()))
    missing = sorted(expected.keys() - weights.keys())
    unexpected = sorted(weights.keys() - expected.keys())
    shapes = sorted(
        f"{k} {tuple(weights[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in weights and weights[k].shape != v.shape
    )
    dtypes = sorted(
        f"{k} {_dtype_name(weights[k].dtype)}, expected {_kind(v.dtype)}"
        for k, v in expected.items()
        if k in weights and not _same_kind(weights[k].dtype, v.dtype)
    )
    problems = []
    if missing:
        problems.append(f"missing keys {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_few(unexpected)}")
    if shapes:
        problems.append(f"wrong shapes {_few(shapes)}")
    if dtypes:
        problems.append(f"wrong dtypes {_few(dtypes)}")
    if problems:
        raise ComponentError(f"{where}: " + "; ".join(problems) + " (a folder for another model or config?)")


M = TypeVar("M", bound=nn.Module)


def build_component(
    path: str | os.PathLike,
    component: str,
    build: Callable[[ComponentFolder], M],
    *,
    lazy: bool = False,
    dtype: mx.Dtype | None = None,
) -> M:
    """The one loading recipe: read folder → build model from config → quantize → strict load → eval unless lazy.

    ``dtype`` casts floating-point parameters that are not quantized (e.g. bfloat16 weights run in float32).
    """
    folder = read_component(path, component)
    model = build(folder)
    weights = load_weights(folder)
    apply_quantization(model, folder.quantization, weights)
    weights = cast_weights(weights, dtype)
    load_strict(model, weights, folder.path)
    model.eval()
    if not lazy:
        mx.eval(model.parameters())
    return model


def save_component(
    path: str | os.PathLike,
    component: str,
    config: dict[str, Any],
    weights: dict[str, mx.array] | Iterable[tuple[str, mx.array]],
    *,
    info: dict[str, Any] | None = None,
    quantization: dict[str, Any] | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    overwrite: bool = False,
) -> Path:
    """Write a component folder atomically: everything goes to a temporary sibling that is renamed last."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ComponentError(f"{path}: already exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        items = dict(weights)
        shards = split_shards(sorted(items), lambda k: items[k].nbytes, max_shard_bytes)
        weight_map, shard_meta = {}, {}
        for name, keys in zip(shard_names(len(shards)), shards, strict=True):
            mx.save_safetensors(str(tmp / name), {k: items[k] for k in keys}, metadata={"format": "mlx"})
            shard_meta[name] = {"size": (tmp / name).stat().st_size, "sha256": sha256_file(tmp / name)}
            weight_map.update(dict.fromkeys(keys, name))
        total = sum(v.nbytes for v in items.values())
        full = config_json(config, component, info, quantization)
        write_component_json(tmp, full, index_json(weight_map, total, shard_meta))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def sha256_file(path: str | os.PathLike, chunk: int = 16 * 1024 * 1024) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def cast_weights(weights: dict[str, mx.array], dtype: mx.Dtype | None) -> dict[str, mx.array]:
    """Float tensors cast to ``dtype`` (None: unchanged); packed quantized weights (uint32) are left alone."""
    return weights if dtype is None else {k: _cast(v, dtype) for k, v in weights.items()}


def _cast(value: mx.array, dtype: mx.Dtype) -> mx.array:
    """Cast float tensors, leaving packed quantized weights (uint32) alone."""
    if not mx.issubdtype(value.dtype, mx.floating):
        return value
    return value.astype(dtype)


def _same_kind(loaded: mx.Dtype, expected: mx.Dtype) -> bool:
    """A float parameter takes any float dtype (the folder's bfloat16 / float16 / float32 is kept, or cast by
    ``dtype``); anything else (packed uint32 quantized weights) exactly its own."""
    if mx.issubdtype(expected, mx.floating):
        return mx.issubdtype(loaded, mx.floating)
    return loaded == expected


def _kind(dtype: mx.Dtype) -> str:
    return "a float dtype" if mx.issubdtype(dtype, mx.floating) else _dtype_name(dtype)


def _dtype_name(dtype: mx.Dtype) -> str:
    return str(dtype).removeprefix("mlx.core.")


def _few(items: list[str], n: int = 8) -> str:
    shown = ", ".join(items[:n])
    return f"[{shown}{f', … {len(items) - n} more' if len(items) > n else ''}]"
