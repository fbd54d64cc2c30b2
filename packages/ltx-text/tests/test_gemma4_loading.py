"""Gemma 4 config reading, strict loading and the encoder-version check (no goldens needed)."""

from __future__ import annotations

import copy
import logging

import mlx.core as mx
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_core.gemma_version import GemmaVersionError, check_gemma_version
from mlx_ltx_core.loader import ComponentError, save_component
from mlx_ltx_core.tiny_configs import tiny_config
from mlx_ltx_text.gemma4_loading import GemmaLoadError, _build, gemma4_model_args, load_gemma4

CONFIG = tiny_config("model_2.5", "text_encoder")
GEMMA4 = {"gemma_version": "gemma4-12b-ltx-v1", "model_type": "gemma4_unified"}


def _with_text(**changes) -> dict:
    config = copy.deepcopy(CONFIG)
    config["text_config"].update(changes)
    return config


def test_args_follow_the_config() -> None:
    args = gemma4_model_args(CONFIG, "te")
    text = CONFIG["text_config"]
    assert (args.hidden_size, args.num_hidden_layers, args.sliding_window) == (32, 4, text["sliding_window"])
    assert args.num_kv_shared_layers == 0 and args.hidden_size_per_layer_input == 0  # mlx-lm's defaults are E2B's
    assert args.layer_types == text["layer_types"]


def test_default_layer_types_are_transformers() -> None:
    """Every 6th layer global, and the last one global whatever the config says (transformers forces it)."""
    config = _with_text(num_hidden_layers=8, layer_types=None)
    assert gemma4_model_args(config, "te").layer_types == ["sliding_attention"] * 5 + ["full_attention"] + [
        "sliding_attention",
        "full_attention",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_kv_shared_layers": 2}, "num_kv_shared_layers=2"),
        ({"hidden_size_per_layer_input": 16}, "hidden_size_per_layer_input=16"),
        ({"use_bidirectional_attention": "all"}, "use_bidirectional_attention='all'"),
        ({"rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1e6}}}, "global-layer rope"),
    ],
)
def test_unsupported_configs_are_refused(change: dict, message: str) -> None:
    with pytest.raises(GemmaLoadError, match=message) as info:
        gemma4_model_args(_with_text(**change), "te")
    assert "\n" not in str(info.value)


def test_other_model_types_are_refused() -> None:
    with pytest.raises(GemmaLoadError, match=r"model_type='gemma3' is not the LTX-2\.5 text encoder's Gemma 4"):
        gemma4_model_args({"model_type": "gemma3", "text_config": {}}, "te")


def _weights() -> dict[str, mx.array]:
    from mlx_ltx_core.loader import ComponentFolder

    model = _build(ComponentFolder(None, "text_encoder", CONFIG, {}, None, {}))  # type: ignore[arg-type]
    weights = dict(tree_flatten(model.parameters()))
    weights["tokenizer_json"] = mx.array(list(b'{"x": 1}'), dtype=mx.uint8)
    return weights


def test_loading_is_strict(tmp_path) -> None:
    weights = _weights()
    del weights["model.layers.1.self_attn.k_norm.weight"]
    save_component(tmp_path / "te", "text_encoder", CONFIG, weights)
    with pytest.raises(ComponentError, match=r"missing keys \[model\.layers\.1\.self_attn\.k_norm\.weight\]"):
        load_gemma4(tmp_path / "te")


def test_tokenizer_assets_are_split_off(tmp_path) -> None:
    save_component(tmp_path / "te", "text_encoder", CONFIG, _weights())
    _, assets, _ = load_gemma4(tmp_path / "te", lazy=True)
    assert assets == {"tokenizer.json": b'{"x": 1}'}


def test_a_folder_without_tokenizer_is_refused(tmp_path) -> None:
    weights = _weights()
    del weights["tokenizer_json"]
    save_component(tmp_path / "te", "text_encoder", CONFIG, weights)
    with pytest.raises(GemmaLoadError, match="no tokenizer_json tensor"):
        load_gemma4(tmp_path / "te")


# ---- check_gemma_version: the reference's rules ---------------------------------------------------------------


def test_matching_gemma_version_passes() -> None:
    check_gemma_version({"gemma_source_checkpoint": {"gemma_version": "gemma4-12b-ltx-v1"}}, GEMMA4, "te")


def test_another_gemma_version_is_refused() -> None:
    checkpoint = {"gemma_source_checkpoint": {"gemma_version": "gemma4-12b-ltx-v2"}, "model_version": "2.5.0"}
    with pytest.raises(GemmaVersionError, match="gemma_version='gemma4-12b-ltx-v1' but the checkpoint was trained"):
        check_gemma_version(checkpoint, GEMMA4, "te")


def test_a_2_5_checkpoint_must_name_its_gemma() -> None:
    with pytest.raises(GemmaVersionError, match="names no gemma_source_checkpoint"):
        check_gemma_version({"model_version": "2.5.0"}, GEMMA4, "te")


def test_neither_side_naming_a_version_only_warns(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        check_gemma_version({"model_version": "2.5.0"}, {"model_type": "gemma4_unified"}, "te")
    assert "not checked" in caplog.text


def test_older_checkpoints_need_gemma_3() -> None:
    check_gemma_version({"model_version": "2.3.0"}, {"model_type": "gemma3"}, "gemma")
    check_gemma_version({}, {"model_type": "gemma3"}, "gemma")
    with pytest.raises(GemmaVersionError, match="uses Gemma 3"):
        check_gemma_version({"model_version": "2.3.0"}, GEMMA4, "te")
