"""Datasets precomputed by the reference trainer (``torch.save`` ``.pt`` files) → our safetensors layout, without
torch and without running arbitrary code.

A ``.pt`` file is a zip holding ``<name>/data.pkl`` (a pickle) and one raw little-endian buffer per storage
(``<name>/data/<key>``). A pickle can call anything it names, so ``RestrictedUnpickler.find_class`` admits only
what a tensor dict needs — ``torch._utils._rebuild_tensor_v2``, the ``torch.*Storage`` types and
``collections.OrderedDict`` (its empty backward-hooks argument) — and maps them to numpy stand-ins here; any other
global (``os.system``, ``builtins.eval``, …) raises ``UnsafePickleError`` naming it, before anything is called.
Persistent ids are only ``("storage", <admitted type>, key, location, numel)``.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mlx_ltx_trainer.data import SUFFIX, write_sample_file

# torch storage class → the numpy dtype of its buffer (bfloat16 is read as uint16 and widened to float32 exactly)
_STORAGES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names something other than tensor / storage reconstruction."""


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor_v2(storage: tuple[str, np.ndarray], offset: int, size: tuple, stride: tuple, *_: Any) -> Any:
    """A copy of the strided view ``size``/``stride`` at element ``offset`` of the storage buffer."""
    name, buffer = storage
    if any(s < 0 for s in stride) or (
        size and offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) >= buffer.size
    ):
        raise UnsafePickleError(f"tensor view {tuple(size)}/{tuple(stride)}+{offset} lies outside its storage")
    item = buffer.itemsize
    view = np.lib.stride_tricks.as_strided(buffer[offset:], shape=tuple(size), strides=[s * item for s in stride])
    out = np.array(view)
    if name == "BFloat16Storage":
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles one ``data.pkl`` of a ``.pt`` zip, storages read from ``archive``."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str):
        super().__init__(io.BytesIO(data))
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise UnsafePickleError(f"refused {module}.{name}: only tensor and storage reconstruction is admitted")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise UnsafePickleError(f"refused persistent id {pid!r}: only storages are admitted")
        _, kind, key, _, numel = pid
        raw = self.archive.read(f"{self.prefix}/data/{key}")
        buffer = np.frombuffer(raw, dtype=np.dtype(_STORAGES[kind.name]).newbyteorder("<"))
        if buffer.size < int(numel):
            raise UnsafePickleError(f"storage {key} holds {buffer.size} items, the pickle says {numel}")
        return kind.name, buffer


def load_pt(path: str | os.PathLike) -> dict[str, Any]:
    """A reference ``.pt`` dict: tensors as numpy arrays (bf16 → float32), numbers as they are."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{path}: not a torch zip archive (torch.save since 1.6); re-save it with torch") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"{path}: expected one <name>/data.pkl in the archive, found {len(pickles)}")
        prefix = pickles[0].split("/")[0]
        if archive.read(f"{prefix}/byteorder").strip() not in (b"little", b""):
            raise ValueError(f"{path}: big-endian tensors are not supported")
        data = RestrictedUnpickler(archive.read(pickles[0]), archive, prefix).load()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: holds a {type(data).__name__}, not the dict the reference's preprocessing saves")
    return data


def convert_dataset(src: str | os.PathLike, dst: str | os.PathLike) -> list[Path]:
    """Every ``**/*.pt`` under ``src`` (the reference's precomputed root) → the same relative path under ``dst``
    with ``.safetensors``: arrays stay in the reference's layout, numbers go to the metadata. Returns the written
    files; refuses to overwrite an existing one."""
    src, dst = Path(src), Path(dst)
    sources = sorted(src.rglob("*.pt"))
    if not sources:
        raise ValueError(f"{src}: no .pt files; pass the reference's precomputed data root")
    targets = [dst / p.relative_to(src).with_suffix(SUFFIX) for p in sources]
    existing = [t for t in targets if t.exists()]
    if existing:
        raise ValueError(f"{existing[0]} exists; convert into an empty folder")
    loaded = [load_pt(p) for p in sources]  # every file checked before anything is written
    for data, target in zip(loaded, targets, strict=True):
        arrays = {k: v for k, v in data.items() if isinstance(v, np.ndarray)}
        scalars = {k: v for k, v in data.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
        write_sample_file(target, arrays, scalars)
    return targets
