"""LTX-2.5's prompt encoder against the reference (``$LTX_GOLDENS/text25``, float64 goldens): the tiny Gemma 4 vs
transformers 5.14's Gemma4UnifiedModel, the 2.5 connectors + projection on its hidden states, the duration head.

The text-encoder file is read as ltx-convert reads it (``layouts.text.gemma4_key``) into a text_encoder component
folder, loaded strictly by ``Gemma4TextEncoder.load``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from safetensors import safe_open

from mlx_ltx_convert.layouts.text import duration_head_key, gemma4_key, text_projection_key
from mlx_ltx_core.loader import save_component
from mlx_ltx_text.duration_head import DurationHead, DurationHeadArgs, seconds_to_num_frames
from mlx_ltx_text.embeddings_processor import EmbeddingsProcessor, EmbeddingsProcessorArgs
from mlx_ltx_text.gemma4 import gemma4_hidden_states
from mlx_ltx_text.text_encoder import Gemma4TextEncoder

from ltx_testing import assert_parity, goldens_root, group, load, manifest

FAMILY = "text25"
REL = 1e-4


def _case(name: str) -> dict[str, Any]:
    return manifest(FAMILY)["cases"][name]


def _checkpoint(file: str, key_map: Any) -> dict[str, mx.array]:
    raw = mx.load(str(goldens_root() / FAMILY / file))
    return {k: v for name, v in raw.items() if (k := key_map(name)) is not None}


@pytest.fixture(scope="module")
def te_file() -> Path:
    return goldens_root() / FAMILY / _case("gemma4_hidden_states")["text_encoder_file"]


@pytest.fixture(scope="module")
def encoder(te_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Gemma4TextEncoder:
    """The text-encoder file → a text_encoder component folder (its gemma_config, mapped keys) → strict load."""
    with safe_open(str(te_file), "np") as f:
        config = json.loads(f.metadata()["gemma_config"])
    folder = tmp_path_factory.mktemp("te") / "text_encoder"
    save_component(folder, "text_encoder", config, _checkpoint(te_file.name, gemma4_key))
    return Gemma4TextEncoder.load(folder, dtype=mx.float32, max_length=_case("gemma4_hidden_states")["max_length"])


def test_tokenization_matches_reference(encoder) -> None:
    """v1.2.0's LTXGemmaTokenizer: strip, BOS prepended (Gemma 4 emits none), truncation, left padding."""
    case = _case("gemma4_hidden_states")
    inputs = group(load(FAMILY, case["file"]), "inputs")
    ids, mask = encoder.tokenizer(case["prompts"])
    np.testing.assert_array_equal(np.array(ids), inputs["input_ids"])
    np.testing.assert_array_equal(np.array(mask), inputs["attention_mask"])
    assert (inputs["input_ids"][inputs["attention_mask"] == 1][:1] == 2).all()


def test_hidden_states_match_transformers(encoder) -> None:
    case = _case("gemma4_hidden_states")
    tensors = load(FAMILY, case["file"])
    inputs, expected = group(tensors, "inputs"), group(tensors, "outputs_f64")["hidden_states_BTDL"]
    args = encoder.model.args
    assert args.sliding_window < max(case["valid_tokens"])  # the window really cuts the prompts
    assert args.attention_k_eq_v and "full_attention" in args.layer_types  # K = V on the global layers runs
    hidden = gemma4_hidden_states(encoder.model, mx.array(inputs["input_ids"]), mx.array(inputs["attention_mask"]))
    assert hidden.shape == (*inputs["input_ids"].shape, args.hidden_size, args.num_hidden_layers + 1)
    for i in range(expected.shape[-1]):
        assert_parity(hidden[..., i], expected[..., i], REL, f"hidden state {i}")


def test_encode_is_tokenizer_then_hidden_states(encoder) -> None:
    case = _case("gemma4_hidden_states")
    hidden, mask = encoder.encode(case["prompts"])
    assert_parity(hidden, group(load(FAMILY, case["file"]), "outputs_f64")["hidden_states_BTDL"], REL, "encode")
    assert mask.shape == hidden.shape[:2]


def _processor() -> EmbeddingsProcessor:
    case = _case("text25_connector")
    gemma = _case("gemma4_hidden_states")["gemma_config"]["text_config"]
    args = EmbeddingsProcessorArgs.from_dict(
        case["transformer_config"], gemma["hidden_size"], gemma["num_hidden_layers"]
    )
    model = EmbeddingsProcessor(args)
    weights = {
        **_checkpoint(case["text_encoder_file"], text_projection_key),
        **_checkpoint(case["weights"], text_projection_key),
    }
    model.load_weights([(k, v.astype(mx.float32)) for k, v in weights.items()], strict=True)
    return model


def _padded_hidden_states() -> tuple[mx.array, mx.array]:
    """The Gemma goldens' float64 hidden states left-padded (1e4 rows) to the connector case's length."""
    hidden = group(load(FAMILY, _case("gemma4_hidden_states")["file"]), "outputs_f64")["hidden_states_BTDL"]
    mask = group(load(FAMILY, _case("text25_connector")["file"]), "inputs")["attention_mask"]
    padded = np.full((*mask.shape, *hidden.shape[2:]), 1e4, dtype=np.float32)
    padded[:, mask.shape[1] - hidden.shape[1] :] = hidden
    return mx.array(padded), mx.array(mask)


def test_connectors_match_reference() -> None:
    """FeatureExtractorV2 + both connectors with the config's rope_type absent: v1.2.0 reads "split"."""
    case = _case("text25_connector")
    assert "rope_type" not in case["transformer_config"]
    out = _processor()(*_padded_hidden_states())
    expected = group(load(FAMILY, case["file"]), "outputs_f64")
    assert_parity(out.video_encoding, expected["video_encoding"], REL, "video encoding")
    assert_parity(out.audio_encoding, expected["audio_encoding"], REL, "audio encoding")


def _duration_head() -> DurationHead:
    case = _case("duration_head")
    head = DurationHead(DurationHeadArgs.from_dict(case["config"]))
    weights = _checkpoint(case["weights"], duration_head_key)
    head.load_weights([(k, v.astype(mx.float32)) for k, v in weights.items()], strict=True)
    return head


@pytest.mark.parametrize("streams", ["both", "video_only", "audio_only"])
def test_duration_head_matches_reference(streams: str) -> None:
    encodings = group(load(FAMILY, _case("text25_connector")["file"]), "outputs_f64")
    video = None if streams == "audio_only" else mx.array(encodings["video_encoding"].astype(np.float32))
    audio = None if streams == "video_only" else mx.array(encodings["audio_encoding"].astype(np.float32))
    expected = group(load(FAMILY, _case("duration_head")["file"]), "outputs_f64")[f"seconds_{streams}"]
    assert_parity(_duration_head()(video, audio), expected, REL, f"seconds ({streams})")


def test_duration_head_needs_a_stream() -> None:
    with pytest.raises(ValueError, match="needs video_tokens, audio_tokens or both"):
        _duration_head()()


@pytest.mark.parametrize(
    ("seconds", "fps", "frames"),
    [(5.0, 24.0, 113), (5.2, 24.0, 121), (0.1, 24.0, 25), (99.0, 24.0, 473), (1.0, 25.0, 25), (3.0, 30.0, 89)],
)
def test_seconds_to_num_frames(seconds: float, fps: float, frames: int) -> None:
    """round(s·fps) clamped to [1 s, 20 s], down to 8k+1, up when that undershoots the minimum (the reference's)."""
    assert seconds_to_num_frames(seconds, fps) == frames
