"""Reading safetensors without torch: header checks, refusals, float8/bfloat16 decoding, and the shard writer."""

from __future__ import annotations

import json
import zipfile

import mlx.core as mx
import numpy as np
import pytest
from safetensors import safe_open

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.safetensors_io import (
    E4M3FN,
    ShardWriter,
    SourceReader,
    bf16_to_f32,
    dequantize_fp8,
    read_header,
)
from mlx_ltx_core.loader import sha256_file

from lightricks_files import bf16_bits, write_safetensors

META = {"config": json.dumps({"transformer": {}}), "model_version": "2.0.0"}


@pytest.fixture
def small(tmp_path):
    tensors = {
        "a": ("F32", np.arange(6, dtype=np.float32).reshape(2, 3)),
        "b": ("BF16", bf16_bits(np.array([1.5, -2.25, 3e-3], np.float32))),
        "c": ("F8_E4M3", np.array([0x38, 0x7E, 0x01, 0xB8], np.uint8)),
    }
    return write_safetensors(tmp_path / "small.safetensors", tensors, META)


def test_header_and_file_order_reads_with_sha256(small) -> None:
    header = read_header(small)
    assert header.metadata == META
    assert [t.name for t in header.tensors.values()] == ["a", "b", "c"]
    reader = SourceReader(header)
    a, b, c = (reader.read(t) for t in header.tensors.values())
    np.testing.assert_array_equal(a, np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(bf16_to_f32(b), [1.5, -2.25, np.float32(mx.array(3e-3).astype(mx.bfloat16).item())])
    np.testing.assert_array_equal(dequantize_fp8(c, np.float32(2.0)), [2.0, 896.0, 2.0**-8, -2.0])
    assert reader.sha256() == sha256_file(small)
    reader.close()


def test_e4m3fn_table_matches_mlx_decoding() -> None:
    ours = E4M3FN
    theirs = np.array(mx.from_fp8(mx.array(np.arange(256, dtype=np.uint8)), mx.float32))
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
    assert ours[0x7E] == 448.0 and ours[0x01] == 2.0**-9 and np.isnan(ours[0x7F]) and np.isnan(ours[0xFF])


def test_truncated_and_padded_files_are_refused(small, tmp_path) -> None:
    data = small.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[:-3])
    with pytest.raises(
        ConversionError, match=r"cut\.safetensors: \d+ bytes but the header describes \d+ \(truncated\)"
    ):
        read_header(cut)
    cut.write_bytes(data[:20])
    with pytest.raises(ConversionError, match="does not fit in 20 bytes"):
        read_header(cut)
    padded = tmp_path / "padded.safetensors"
    padded.write_bytes(data + b"\0\0")
    with pytest.raises(ConversionError, match="2 unexpected bytes after the tensor data"):
        read_header(padded)


def test_pickle_files_are_refused_by_name_and_by_content(tmp_path) -> None:
    for suffix in (".bin", ".pt", ".ckpt"):
        path = tmp_path / f"model{suffix}"
        path.write_bytes(b"\x80\x02}q\x00.")
        with pytest.raises(ConversionError, match=rf"pickle format \({suffix}\) is not read"):
            read_header(path)
    disguised = tmp_path / "model.safetensors"
    with zipfile.ZipFile(disguised, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02")
    with pytest.raises(ConversionError, match=r"a pickle/zip \(torch\.save\) file, not safetensors"):
        read_header(disguised)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes((8).to_bytes(8, "little") + b"not json")
    with pytest.raises(ConversionError, match="not a safetensors file"):
        read_header(junk)


def test_overlapping_offsets_are_refused(tmp_path) -> None:
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "overlap.safetensors"
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + bytes(12))
    with pytest.raises(ConversionError, match="gap or overlap at b"):
        read_header(path)


def test_shard_writer_output_loads_everywhere_and_hashes_itself(tmp_path) -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = bf16_bits(np.linspace(-1, 1, 5, dtype=np.float32))
    path = tmp_path / "shard.safetensors"
    writer = ShardWriter(path, [("x.a", "F32", (3, 4)), ("x.b", "BF16", (5,))])
    writer.write("x.a", a)
    with pytest.raises(RuntimeError, match=r"planned x\.b"):
        writer.write("x.c", b)
    writer.write("x.b", b)
    meta = writer.close()
    assert meta == {"size": path.stat().st_size, "sha256": sha256_file(path)}
    loaded = mx.load(str(path))
    np.testing.assert_array_equal(np.array(loaded["x.a"]), a)
    assert loaded["x.b"].dtype == mx.bfloat16
    np.testing.assert_array_equal(np.array(loaded["x.b"].view(mx.uint16)), b)
    with safe_open(str(path), "np") as f:  # the reference safetensors reader agrees (it has no numpy bfloat16)
        np.testing.assert_array_equal(f.get_tensor("x.a"), a)
