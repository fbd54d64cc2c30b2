"""Transformer configuration: the reference's config checks, and the full-size models built without weights."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mlx.core as mx
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_convert.layouts.transformer import transformer_key
from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, LTXModelType, LTXRopeType

FULL_SIZE = json.loads((Path(__file__).parents[3] / "tests" / "data" / "full_size_keys.json").read_text())["models"]
EXPECTED_PARAMS = {"ltx-2": 18_876_174_592, "ltx-2.3": 18_988_838_144, "ltx-2.5": 18_987_859_200}


def _expanded_keys(entry: dict) -> dict[str, tuple[int, ...]]:
    layers = entry["config"]["num_layers"]
    keys = {}
    for key, shape in entry["keys"].items():
        names = [key.format(i=i) for i in range(layers)] if "{i}" in key else [key]
        keys.update({transformer_key(n): tuple(shape) for n in names})
    return keys


@pytest.mark.parametrize("version", sorted(EXPECTED_PARAMS))
def test_full_size_builds_lazily_with_reference_keys_and_count(version: str) -> None:
    entry = FULL_SIZE[version]["components"]["transformer"]
    before = mx.get_active_memory()
    model = LTXModel(LTXModelArgs.from_dict(entry["config"]))
    params = dict(tree_flatten(model.parameters()))
    assert mx.get_active_memory() - before < 64 * 1024**2, "building must not materialise 19B weights"
    assert sum(p.size for p in params.values()) == EXPECTED_PARAMS[version] == entry["num_params"]
    assert {k: tuple(v.shape) for k, v in params.items()} == _expanded_keys(entry)


def test_ltx23_config_enables_its_features() -> None:
    args = LTXModelArgs.from_dict(FULL_SIZE["ltx-2.3"]["components"]["transformer"]["config"])
    assert args.cross_attention_adaln and args.apply_gated_attention and not args.has_caption_projection
    assert args.rope_type == LTXRopeType.SPLIT and args.double_precision_rope
    assert args.av_ca_timestep_scale_multiplier == 1000.0


def test_unsupported_values_are_listed_in_one_error() -> None:
    config = dict(FULL_SIZE["ltx-2"]["components"]["transformer"]["config"])
    config.update(dropout=0.1, qk_norm="layer_norm")
    with pytest.raises(ValueError, match=r"dropout=0\.1 \(expected 0\.0\).*qk_norm='layer_norm'"):
        LTXModelArgs.from_dict(config)


def test_av_only_keys_are_not_required_for_video_only() -> None:
    config = {k: v for k, v in FULL_SIZE["ltx-2"]["components"]["transformer"]["config"].items() if k != "share_ff"}
    with pytest.raises(ValueError, match="share_ff=None"):
        LTXModelArgs.from_dict(config, "AudioVideo")
    assert LTXModelArgs.from_dict(config, "VideoOnly").model_type == LTXModelType.VideoOnly


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"audio_num_attention_heads": 16, "audio_attention_head_dim": 128}, "must equal audio_num_attention_heads"),
        ({"cross_attention_dim": 2048}, "cross_attention_dim=2048 must equal heads × head dim = 4096"),
        ({"caption_channels": None}, "caption_channels is required"),
        ({"ff_bias": "no"}, r"unsupported values: ff_bias='no' \(expected true or false\)"),
        ({"rope_type": "spiral"}, "rope_type='spiral'"),
    ],
)
def test_inconsistent_configs_fail_with_the_rule(change: dict, message: str) -> None:
    config = {**FULL_SIZE["ltx-2"]["components"]["transformer"]["config"], **change}
    with pytest.raises(ValueError, match=message):
        LTXModelArgs.from_dict(config)


def test_real_config_key_names_follow_the_reference() -> None:
    """Attribute paths equal checkpoint keys: e.g. to_out.0, ff.net.0.proj / ff.net.2, AdaLN embedders."""
    model = LTXModel(LTXModelArgs.from_dict(FULL_SIZE["ltx-2.3"]["components"]["transformer"]["config"]))
    keys = {
        re.sub(r"transformer_blocks\.\d+\.", "transformer_blocks.N.", k) for k, _ in tree_flatten(model.parameters())
    }
    for key in (
        "transformer_blocks.N.attn1.to_out.0.weight",
        "transformer_blocks.N.ff.net.0.proj.weight",
        "transformer_blocks.N.audio_ff.net.2.bias",
        "transformer_blocks.N.audio_to_video_attn.to_gate_logits.weight",
        "transformer_blocks.N.prompt_scale_shift_table",
        "av_ca_a2v_gate_adaln_single.emb.timestep_embedder.linear_2.weight",
        "audio_prompt_adaln_single.linear.bias",
    ):
        assert key in keys, key


def _tiny_av(**change: object) -> dict:
    from mlx_ltx_core.tiny_configs import tiny_config

    return {**tiny_config("goldens", "transformer", "ltx23_av"), **change}


def test_ltx25_switches_shape_the_keys() -> None:
    """ff_bias / audio_ff_bias drop the FF biases, use_prompt_adaln_single the prompt AdaLN MLPs, and
    use_keyframes_abs_pos_embedding adds the (1, D) video-only embedding, as v1.2.0's LTXModel builds them."""
    base = {k for k, _ in tree_flatten(LTXModel(LTXModelArgs.from_dict(_tiny_av())).parameters())}
    config = _tiny_av(
        ff_bias=False, audio_ff_bias=False, use_prompt_adaln_single=False, use_keyframes_abs_pos_embedding=True
    )
    model = LTXModel(LTXModelArgs.from_dict(config))
    keys = {k for k, _ in tree_flatten(model.parameters())}
    dropped = {k for k in base if re.search(r"(ff\.net\.(0\.proj|2)\.bias|prompt_adaln_single\.)", k)}
    assert dropped and not dropped & keys
    assert keys == (base - dropped) | {"keyframes_abs_pos_embedding"}
    assert model.keyframes_abs_pos_embedding.shape == (1, 32)
    assert "transformer_blocks.0.prompt_scale_shift_table" in keys  # the static K/V table stays
    audio_only = LTXModel(LTXModelArgs.from_dict(config, "AudioOnly"))
    assert "keyframes_abs_pos_embedding" not in audio_only


def test_rope_type_defaults_to_split_as_in_v120() -> None:
    config = {k: v for k, v in _tiny_av().items() if k != "rope_type"}
    assert LTXModelArgs.from_dict(config).rope_type == LTXRopeType.SPLIT


def test_keyframes_mask_adds_the_embedding_to_marked_tokens_only() -> None:
    from mlx_ltx_core.model.transformer.transformer_args import keyframes_embedding

    x = mx.zeros((1, 3, 2))
    out = keyframes_embedding(x, mx.array([[[1.0], [0.0], [2.0]]]), mx.array([[0.5, -1.0]]))
    assert out.tolist() == [[[0.5, -1.0], [0.0, 0.0], [0.5, -1.0]]]
    assert keyframes_embedding(x, None, mx.ones((1, 2))) is x
