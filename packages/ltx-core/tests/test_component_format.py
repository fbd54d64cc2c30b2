"""The format module both writers call: shard names and split, the config block, the index, and its readers."""

from __future__ import annotations

import json

import pytest

from mlx_ltx_core.component_format import (
    FORMAT_VERSION,
    ComponentError,
    component_name,
    config_json,
    index_json,
    read_component,
    read_model_index,
    shard_names,
    split_shards,
    write_component_json,
)


def test_shard_names_and_split() -> None:
    assert shard_names(1) == ["model.safetensors"]
    assert shard_names(3)[1] == "model-00002-of-00003.safetensors"
    assert split_shards([4, 4, 9, 1, 1], lambda n: n, 8) == [[4, 4], [9], [1, 1]]
    assert split_shards([], lambda n: n, 8) == [[]]  # an empty component still gets its one shard


def test_written_folder_reads_back(tmp_path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"12345")
    config = config_json({"num_layers": 2}, "transformer", {"model_type": "VideoOnly"}, {"bits": 4, "group_size": 64})
    shards = {"model.safetensors": {"size": 5, "sha256": "x"}}
    write_component_json(tmp_path, config, index_json({"b": "model.safetensors", "a": "model.safetensors"}, 5, shards))
    folder = read_component(tmp_path, "transformer")
    assert folder.config == {"num_layers": 2}
    assert folder.info == {"format_version": FORMAT_VERSION, "component": "transformer", "model_type": "VideoOnly"}
    assert folder.quantization == {"bits": 4, "group_size": 64}
    assert list(folder.index["weight_map"]) == ["a", "b"] and folder.total_size == 5
    assert component_name(tmp_path) == "transformer"
    (tmp_path / "model.safetensors").write_bytes(b"123")
    with pytest.raises(ComponentError, match=r"3 bytes, the index records 5"):
        read_component(tmp_path)


def test_readers_name_the_file(tmp_path) -> None:
    with pytest.raises(ComponentError, match=r"no model_index\.json; pass a folder made by `ltx convert`"):
        read_model_index(tmp_path)
    (tmp_path / "model_index.json").write_text("{")
    with pytest.raises(ComponentError, match=r"model_index\.json: invalid JSON"):
        read_model_index(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"foo": 1}))
    assert component_name(tmp_path) is None  # another tool's config.json
    assert component_name(tmp_path / "nowhere") is None
