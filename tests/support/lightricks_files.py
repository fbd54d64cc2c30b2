"""Small files in the Lightricks format (safetensors + ``__metadata__``), written independently of ltx-convert.

``write_safetensors`` lays a file out by hand (header JSON, tensors sorted by name) so that the converter is tested
against files it did not write; ``golden_checkpoint`` turns a transformer golden weights file into a single-file
checkpoint with a real-style model version and, optionally, other components' tensors.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
from safetensors import safe_open

from ltx_testing import goldens_root

_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "I64": 8, "U8": 1}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, np.ndarray]], metadata: dict[str, str]) -> Path:
    """``tensors``: name → (safetensors dtype, carrier array: BF16 as uint16 bits, F8_E4M3 as uint8 codes)."""
    header: dict[str, Any] = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        dtype, array = tensors[name]
        data = np.ascontiguousarray(array).tobytes()
        assert len(data) == array.size * _ITEMSIZE[dtype], name
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
    return path


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns (round to nearest even, by MLX)."""
    return np.array(mx.array(np.asarray(x, np.float32)).astype(mx.bfloat16).view(mx.uint16))


def fp8_codes(x: np.ndarray) -> np.ndarray:
    """float32 → float8_e4m3fn codes (by MLX)."""
    return np.array(mx.to_fp8(mx.array(np.asarray(x, np.float32))))


def fp8_values(codes: np.ndarray) -> np.ndarray:
    return np.array(mx.from_fp8(mx.array(codes), mx.float32))


def golden_weights(config_name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(full metadata config, checkpoint-keyed float32 tensors) of a transformer golden weights file."""
    with safe_open(str(goldens_root() / "transformer" / f"{config_name}.weights.safetensors"), "np") as f:
        return json.loads(f.metadata()["config"]), {k: f.get_tensor(k) for k in f.keys()}


def golden_checkpoint(
    path: Path,
    config_name: str,
    *,
    model_version: str | None = "2.0.0",
    dtype: str = "F32",
    extra: dict[str, tuple[str, np.ndarray]] | None = None,
    extra_config: dict[str, Any] | None = None,
) -> Path:
    """A single-file checkpoint from the golden transformer weights (``dtype`` F32 or BF16) plus ``extra`` tensors."""
    config, weights = golden_weights(config_name)
    tensors = {k: (dtype, bf16_bits(v) if dtype == "BF16" else v.astype(np.float32)) for k, v in weights.items()}
    tensors.update(extra or {})
    metadata = {"config": json.dumps({**config, **(extra_config or {})})}
    if model_version is not None:
        metadata["model_version"] = model_version
    return write_safetensors(path, tensors, metadata)
