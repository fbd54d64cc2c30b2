"""Streaming safetensors I/O without torch: header parsing and checks, one-tensor reads, shard writing with sha256.

bfloat16 tensors travel as their uint16 bit patterns (numpy has no bfloat16); float8_e4m3fn as uint8 codes,
decoded exactly with a 256-entry table. Reads use plain file reads (not mmap), so memory is freed tensor by tensor.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from mlx_ltx_convert.errors import ConversionError

# safetensors dtype → (numpy carrier dtype, is floating point)
DTYPES: dict[str, tuple[np.dtype, bool]] = {
    "F64": (np.dtype(np.float64), True),
    "F32": (np.dtype(np.float32), True),
    "F16": (np.dtype(np.float16), True),
    "BF16": (np.dtype(np.uint16), True),
    "F8_E4M3": (np.dtype(np.uint8), True),
    "I64": (np.dtype(np.int64), False),
    "I32": (np.dtype(np.int32), False),
    "I16": (np.dtype(np.int16), False),
    "I8": (np.dtype(np.int8), False),
    "U64": (np.dtype(np.uint64), False),
    "U32": (np.dtype(np.uint32), False),
    "U16": (np.dtype(np.uint16), False),
    "U8": (np.dtype(np.uint8), False),
    "BOOL": (np.dtype(np.bool_), False),
}
_MAX_HEADER = 100 * 1024**2
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a safetensors file; ``begin``/``end`` are absolute file offsets."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


@dataclass(frozen=True)
class Header:
    """A parsed safetensors header: metadata strings and tensors in file order."""

    path: Path
    metadata: dict[str, str]
    tensors: dict[str, TensorInfo]
    header_bytes: int = 0
    file_size: int = 0


def itemsize(dtype: str) -> int:
    return DTYPES[dtype][0].itemsize


def is_float(dtype: str) -> bool:
    return DTYPES[dtype][1]


def refuse_pickle(path: Path) -> None:
    """Pickle checkpoints can run code when loaded: name the safetensors file to use instead."""
    if path.suffix.lower() in _PICKLE_SUFFIXES:
        raise ConversionError(
            f"{path}: pickle format ({path.suffix}) is not read (it can run code); use the .safetensors file"
        )


def read_header(path: str | os.PathLike) -> Header:
    """Parse and check a safetensors header: offsets tile the data exactly and the file is complete."""
    path = Path(path)
    refuse_pickle(path)
    if not path.is_file():
        raise ConversionError(f"{path}: no such file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if head[:2] == b"PK" or head[:1] == b"\x80":
            raise ConversionError(f"{path}: a pickle/zip (torch.save) file, not safetensors; use the .safetensors file")
        if len(head) < 8:
            raise ConversionError(f"{path}: {size} bytes, too short for safetensors (truncated?); re-download it")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise ConversionError(f"{path}: header of {n} bytes does not fit in {size} bytes (truncated?); re-download")
        try:
            raw = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConversionError(f"{path}: not a safetensors file (header is not JSON: {e})") from e
    metadata = raw.pop("__metadata__", None) or {}
    tensors = _tensors(path, raw, 8 + n)
    end = max((t.end for t in tensors.values()), default=8 + n)
    if size < end:
        raise ConversionError(f"{path}: {size} bytes but the header describes {end} (truncated); re-download it")
    if size > end:
        raise ConversionError(f"{path}: {size - end} unexpected bytes after the tensor data (corrupted?); re-download")
    return Header(path, metadata, tensors, 8 + n, size)


def _tensors(path: Path, raw: dict[str, Any], start: int) -> dict[str, TensorInfo]:
    tensors = []
    for name, entry in raw.items():
        dtype, shape, (b, e) = entry.get("dtype"), tuple(entry.get("shape", ())), entry.get("data_offsets", (0, -1))
        if dtype not in DTYPES:
            raise ConversionError(f"{path}: tensor {name} has dtype {dtype}, which ltx-convert does not read")
        if e - b != math.prod(shape) * itemsize(dtype):
            raise ConversionError(
                f"{path}: tensor {name} offsets {b}..{e} do not match {dtype}{list(shape)} (corrupted)"
            )
        tensors.append(TensorInfo(name, dtype, shape, start + b, start + e))
    tensors.sort(key=lambda t: (t.begin, t.end))
    position = start
    for t in tensors:
        if t.begin != position:
            raise ConversionError(f"{path}: tensor data has a gap or overlap at {t.name} (corrupted); re-download")
        position = t.end
    return {t.name: t for t in tensors}


class SourceReader:
    """Reads a checked file's tensors in file order, hashing every byte (header included) on the way."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self._file: io.BufferedReader = open(header.path, "rb")  # noqa: SIM115 - closed by close()
        self._hash = hashlib.sha256(self._file.read(header.header_bytes))
        self._position = header.header_bytes

    def read(self, info: TensorInfo) -> np.ndarray:
        """The next tensor in file order, as its numpy carrier array (bfloat16 → uint16, float8 → uint8)."""
        if info.begin != self._position:
            raise RuntimeError(f"tensors must be read in file order ({info.name} at {info.begin}, at {self._position})")
        data = np.empty(info.nbytes, np.uint8)
        if self._file.readinto(data.data) != info.nbytes:
            raise ConversionError(f"{self.header.path}: ended inside tensor {info.name} (truncated while reading)")
        self._hash.update(data.data)
        self._position = info.end
        return data.view(DTYPES[info.dtype][0]).reshape(info.shape)

    def sha256(self) -> str:
        if self._position != self.header.file_size:
            raise RuntimeError("sha256 is known only after every tensor was read")
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()


def read_tensor(header: Header, name: str) -> np.ndarray:
    """One tensor read directly (small tensors such as fp8 scales), outside the hashed stream."""
    info = header.tensors[name]
    with open(header.path, "rb") as f:
        f.seek(info.begin)
        data = np.frombuffer(f.read(info.nbytes), np.uint8)
    return data.view(DTYPES[info.dtype][0]).reshape(info.shape)


def _e4m3fn_table() -> np.ndarray:
    """float8_e4m3fn code → float32: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN."""
    codes = np.arange(256)
    sign = np.where(codes & 0x80, -1.0, 1.0)
    exponent, mantissa = (codes >> 3) & 0xF, codes & 0x7
    normal = (1 + mantissa / 8) * np.exp2(exponent - 7.0)
    subnormal = (mantissa / 8) * 2.0**-6
    values = sign * np.where(exponent == 0, subnormal, normal)
    values[(codes & 0x7F) == 0x7F] = np.nan
    return values.astype(np.float32)


E4M3FN = _e4m3fn_table()


def dequantize_fp8(codes: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    """``W = float32(fp8) · weight_scale`` (per-tensor scale), as Lightricks folds scaled fp8 weights."""
    values = E4M3FN[codes]
    if scale is not None:
        values *= np.float32(np.asarray(scale, np.float32).reshape(()))
    return values


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    """Exact widening of bfloat16 bit patterns."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


class ShardWriter:
    """One safetensors file whose tensor list is known up front; data arrives in that order and is hashed as written."""

    def __init__(
        self, path: Path, entries: list[tuple[str, str, tuple[int, ...]]], metadata: dict[str, str] | None = None
    ) -> None:
        header: dict[str, Any] = {"__metadata__": metadata or {"format": "mlx"}}
        offset = 0
        self._expected: list[tuple[str, int]] = []
        for name, dtype, shape in entries:
            nbytes = math.prod(shape) * itemsize(dtype)
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            self._expected.append((name, nbytes))
            offset += nbytes
        blob = json.dumps(header, separators=(",", ":")).encode()
        blob += b" " * (-len(blob) % 8)  # data starts 8-byte aligned, as safetensors writes it
        self.path = path
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._hash = hashlib.sha256()
        self._put(struct.pack("<Q", len(blob)) + blob)
        self._next = 0

    def _put(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self._hash.update(data)

    def write(self, name: str, data: np.ndarray) -> None:
        want, nbytes = self._expected[self._next]
        buffer = np.ascontiguousarray(data).data.cast("B")
        if name != want or buffer.nbytes != nbytes:
            raise RuntimeError(f"{self.path}: got {name} ({buffer.nbytes} B), planned {want} ({nbytes} B)")
        self._put(buffer)
        self._next += 1

    @property
    def complete(self) -> bool:
        return self._next == len(self._expected)

    def abort(self) -> None:
        """Close an incomplete file (its folder is about to be deleted)."""
        self._file.close()

    def close(self) -> dict[str, Any]:
        """Flush to disk; returns ``{"size", "sha256"}`` for the index."""
        if not self.complete:
            raise RuntimeError(f"{self.path}: closed after {self._next} of {len(self._expected)} tensors")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return {"size": self.path.stat().st_size, "sha256": self._hash.hexdigest()}
