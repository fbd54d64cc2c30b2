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


def _component(tmp_path, index: dict | None = None):
    (tmp_path / "model.safetensors").write_bytes(b"12345")
    shards = {"model.safetensors": {"size": 5, "sha256": "x"}}
    write_component_json(
        tmp_path, config_json({}, "transformer"), index or index_json({"a": "model.safetensors"}, 5, shards)
    )
    return tmp_path


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({"weight_map": [1], "metadata": {}}, "'weight_map' is list"),
        ({"weight_map": {"a": 3}, "metadata": {}}, r"'weight_map'\['a'\] is int"),
        ({"weight_map": {}, "metadata": {"shards": {"s": {"size": "5"}}}}, r"'metadata.shards'\['s'\].size is str"),
        ({"weight_map": {}, "metadata": {"total_size": True}}, "'metadata.total_size' is bool"),
    ],
)
def test_wrong_typed_index_entries_name_the_file(tmp_path, index: dict, message: str) -> None:
    with pytest.raises(ComponentError, match=f"model.safetensors.index.json: {message}"):
        read_component(_component(tmp_path, index))


def test_unreadable_or_wrong_typed_model_index_names_the_file(tmp_path) -> None:
    index = tmp_path / "model_index.json"
    index.write_text(json.dumps({"components": {"transformer": {"component": "transformer", "size": "big"}}}))
    with pytest.raises(ComponentError, match=r"model_index.json: 'components'\['transformer'\].size is str"):
        read_model_index(tmp_path)
    index.write_text("[]")
    with pytest.raises(ComponentError, match=r"model_index\.json: the file is list"):
        read_model_index(tmp_path)
    index.unlink()
    index.symlink_to(index)
    with pytest.raises(ComponentError, match=r"model_index.json: cannot be read \(Too many levels of symbolic links"):
        read_model_index(tmp_path)
    index.unlink()
    index.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ComponentError, match=r"model_index\.json: not a text file"):
        read_model_index(tmp_path)
