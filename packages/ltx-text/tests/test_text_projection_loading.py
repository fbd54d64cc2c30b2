"""The text_projection component: config → model selection, key mapping, strict folder loading, full-size keys."""

from __future__ import annotations

import json

import mlx.core as mx
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_convert.layouts.text import text_projection_key
from mlx_ltx_core.loader import ComponentError, save_component
from mlx_ltx_text import EmbeddingsProcessor, EmbeddingsProcessorArgs, feature_extractor_version, load_text_projection
from mlx_ltx_text.gemma_keys import gemma_key
from mlx_ltx_text.loading import COMPONENT, save_text_projection

from ltx_testing import assert_parity, manifest

V2_KEYS = {
    "caption_proj_before_connector": True,
    "caption_projection_first_linear": False,
    "caption_proj_input_norm": False,
    "caption_projection_second_linear": False,
}


def _save_case(goldens, case: str, path, weights=None):
    info = goldens.info(case)
    gemma = {"hidden_size": info["gemma"]["hidden_size"], "num_hidden_layers": info["gemma"]["num_hidden_states"] - 1}
    weights = goldens.weights(case) if weights is None else weights
    return save_component(path, COMPONENT, info["transformer_config"], weights, info={"gemma": gemma})


def test_folder_round_trip_matches_reference(goldens, connector_case: str, tmp_path) -> None:
    model = load_text_projection(_save_case(goldens, connector_case, tmp_path / "tp"))
    out = model(*goldens.inputs(connector_case))
    expected = goldens.tensors(connector_case, "outputs_f64")
    assert_parity(out.video_encoding, expected["video_encoding"], 1e-4, "video from folder")
    assert_parity(out.audio_encoding, expected["audio_encoding"], 1e-4, "audio from folder")


def test_save_text_projection_round_trips(goldens, connector_case: str, tmp_path) -> None:
    model = goldens.build(connector_case)
    folder = save_text_projection(tmp_path / "tp", model, goldens.info(connector_case)["transformer_config"])
    loaded = load_text_projection(folder, lazy=True, dtype=mx.bfloat16)
    assert loaded.args == model.args
    assert all(v.dtype == mx.bfloat16 for _, v in tree_flatten(loaded.parameters()))


def test_missing_key_is_named(goldens, connector_case: str, tmp_path) -> None:
    weights = goldens.weights(connector_case)
    del weights["video_embeddings_connector.learnable_registers"]
    with pytest.raises(ComponentError, match=r"missing keys \[video_embeddings_connector.learnable_registers\]"):
        load_text_projection(_save_case(goldens, connector_case, tmp_path / "tp", weights))


def test_unexpected_key_is_named(goldens, connector_case: str, tmp_path) -> None:
    weights = goldens.weights(connector_case)
    weights["video_embeddings_connector.transformer_1d_blocks.2.ff.net.2.bias"] = mx.zeros((4,))
    with pytest.raises(ComponentError, match=r"unexpected keys \[video_embeddings_connector.transformer_1d_blocks.2"):
        load_text_projection(_save_case(goldens, connector_case, tmp_path / "tp", weights))


def test_key_mapping() -> None:
    assert gemma_key("language_model.model.layers.0.mlp.up_proj.weight") == "model.layers.0.mlp.up_proj.weight"
    assert gemma_key("model.language_model.norm.weight") == "model.norm.weight"
    assert gemma_key("language_model.lm_head.weight") == "lm_head.weight"
    assert gemma_key("model.embed_tokens.scales") == "model.embed_tokens.scales"
    assert gemma_key("vision_tower.vision_model.embeddings.patch_embedding.weight") is None
    assert gemma_key("model.multi_modal_projector.mm_input_projection_weight") is None
    with pytest.raises(ValueError, match="belongs to no Gemma 3 layout"):
        gemma_key("transformer.wte.weight")


def test_feature_extractor_selection() -> None:
    assert feature_extractor_version({"num_layers": 48}) == 1
    assert feature_extractor_version(V2_KEYS) == 2
    with pytest.raises(ValueError, match=r"partial LTX-2\.3 config, missing caption_proj_input_norm"):
        feature_extractor_version({k: v for k, v in V2_KEYS.items() if k != "caption_proj_input_norm"})
    with pytest.raises(ValueError, match=r"caption_projection_first_linear=True \(expected False\)"):
        feature_extractor_version({**V2_KEYS, "caption_projection_first_linear": True})


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="rope_type='spiral'"):
        EmbeddingsProcessorArgs.from_dict({"rope_type": "spiral"})
    with pytest.raises(ValueError, match="connector_ff_bias=False"):
        EmbeddingsProcessorArgs.from_dict({"connector_ff_bias": False})
    v2 = {**V2_KEYS, "num_attention_heads": 4, "attention_head_dim": 8, "audio_num_attention_heads": 2}
    v2 |= {"audio_attention_head_dim": 8, "connector_num_attention_heads": 2, "connector_attention_head_dim": 8}
    with pytest.raises(ValueError, match="video connector is 2×8 wide but its features are 32 wide"):
        EmbeddingsProcessorArgs.from_dict(v2, 16, 3)


def test_input_errors(goldens, connector_case: str) -> None:
    model = goldens.build(connector_case)
    hidden, mask = goldens.inputs(connector_case)
    with pytest.raises(ValueError, match="multiple of num_learnable_registers=128"):
        model(hidden[:, :200], mask[:, :200])
    with pytest.raises(ValueError, match="belongs to another Gemma"):
        model(hidden[..., :-1], mask)


@pytest.mark.parametrize("version", ["ltx-2", "ltx-2.3"])
def test_full_size_keys_match_reference(version: str) -> None:
    """The full-size model (built lazily, never evaluated) has the reference's keys and shapes, mapped 1:1."""
    ref = manifest("text")["full_size_keys"][version]
    model = EmbeddingsProcessor(EmbeddingsProcessorArgs.from_dict(ref["transformer_config"]))
    ours = {k: list(v.shape) for k, v in tree_flatten(model.parameters())}
    expected = {}
    for key, shape in ref["keys"].items():
        mlx_key = text_projection_key(key)
        conn = "video" if mlx_key.startswith("video") else "audio"
        for i in range(ref["num_layers"][conn] if "{i}" in mlx_key else 1):
            expected[mlx_key.replace("{i}", str(i))] = shape
    assert ours == expected, json.dumps(sorted(ours.keys() ^ expected.keys()))
