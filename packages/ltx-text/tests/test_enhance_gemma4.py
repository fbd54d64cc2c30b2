"""Prompt enhancement with a dense Gemma 4 (mlx-lm's loading): greedy with no repeated 5-gram, as the reference's
``generate(do_sample=False, no_repeat_ngram_size=5, max_new_tokens=600)``. A tiny random Gemma 4 with KV sharing
and per-layer inputs (the E2B features) in the Hugging Face layout, written here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten
from safetensors.numpy import save_file

from mlx_ltx_text.enhance_gemma4 import Gemma4Enhancer, banned_tokens, gemma4_system_prompt
from mlx_ltx_text.gemma_loading import GemmaLoadError

TINY_GEMMA = Path(__file__).resolve().parents[2] / "ltx-cli" / "src" / "mlx_ltx_cli" / "tiny_gemma"
TEXT_CONFIG = {
    "hidden_size": 32,
    "num_hidden_layers": 4,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "global_head_dim": 32,
    "num_kv_shared_layers": 2,  # layers 2, 3 reuse the K/V of layers 0, 1
    "hidden_size_per_layer_input": 8,
    "vocab_size_per_layer_input": 527,
    "sliding_window": 8,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
    "final_logit_softcapping": 30.0,
}


@pytest.mark.parametrize(
    ("ids", "n", "banned"),
    [
        ([1, 2, 3, 1, 2], 3, {3}),  # "1 2" was followed by 3
        ([1, 2, 3, 4, 1, 2, 3], 4, {4}),
        ([1, 2, 1, 2, 1], 2, {2}),
        ([5, 5, 5], 2, {5}),
        ([1, 2, 3], 5, set()),  # shorter than n − 1 + 1
        ([1, 2, 3, 4, 9, 1, 2, 3], 5, set()),  # "1 2 3 4" seen, but the last four are "9 1 2 3"
    ],
)
def test_banned_tokens_are_transformers_no_repeat_ngram(ids: list[int], n: int, banned: set[int]) -> None:
    assert banned_tokens(ids, n) == banned


@pytest.fixture(scope="module")
def tiny_gemma4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlx_lm.models import gemma4

    folder = tmp_path_factory.mktemp("gemma4")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(TINY_GEMMA / name, folder / name)
    config = {"model_type": "gemma4", "vocab_size": 527, "eos_token_id": [1, 6], "text_config": TEXT_CONFIG}
    (folder / "config.json").write_text(json.dumps(config))
    mx.random.seed(3)
    model = gemma4.Model(gemma4.ModelArgs.from_dict(config))
    weights = {
        "model." + k.replace("language_model.model.", "language_model.", 1): np.array(v) * 4  # livelier logits
        for k, v in tree_flatten(model.parameters())
    }
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def test_greedy_without_repeated_5_grams(tiny_gemma4: Path) -> None:
    """Each generated token is the argmax of a full (uncached) forward with the banned tokens removed."""
    enhancer = Gemma4Enhancer.load(tiny_gemma4)
    messages = [{"role": "system", "content": "Describe."}, {"role": "user", "content": "user prompt: a cat"}]
    tokens = enhancer.generate(messages, max_new_tokens=16)
    assert tokens and not set(tokens) & enhancer.eos_token_ids
    text = enhancer.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = enhancer.tokenizer.encode(text, add_special_tokens=False)
    for token in tokens:
        logits = np.array(enhancer.model(mx.array([ids]))[0, -1].astype(mx.float32))
        logits[sorted(banned_tokens(ids))] = -np.inf
        assert token == int(np.argmax(logits))
        ids.append(token)
    grams = [tuple(ids[i : i + 5]) for i in range(len(ids) - 4)]
    assert len(grams) == len(set(grams))  # no 5-gram twice, prompt included


def test_enhance_t2v_uses_the_gemma4_system_prompt(tiny_gemma4: Path) -> None:
    assert gemma4_system_prompt("t2v") != gemma4_system_prompt("i2v")
    out = Gemma4Enhancer.load(tiny_gemma4).enhance_t2v("a cat on a beach", max_new_tokens=8)
    assert isinstance(out, str)


def test_only_dense_gemma4_enhances(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gemma4_unified"}))
    with pytest.raises(GemmaLoadError, match="model_type='gemma4_unified' is not a dense Gemma 4 instruct model"):
        Gemma4Enhancer.load(tmp_path)
