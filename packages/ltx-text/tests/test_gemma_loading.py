"""Loading Gemma 3 folders: accepted layouts (HF old/new, text-only, MLX-quantized) and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_text import GemmaLoadError, GemmaTextEncoder, GemmaTokenizerError
from mlx_ltx_text.gemma import gemma_hidden_states
from mlx_ltx_text.gemma_loading import gemma_model_args

from ltx_testing import max_rel_error


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def _write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config))


def _rewrite_weights(folder: Path, rename) -> None:
    weights = mx.load(str(folder / "model.safetensors"))
    renamed = {rename(k): v for k, v in weights.items()}
    mx.save_safetensors(str(folder / "model.safetensors"), {k: v for k, v in renamed.items() if k is not None})


def _hidden(encoder: GemmaTextEncoder, prompts: list[str]) -> np.ndarray:
    return np.array(encoder.encode(prompts)[0])


def _one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# --- accepted layouts -----------------------------------------------------------------------------------------


def test_transformers_5_key_layout_loads_the_same(gemma_copy: Path, tiny_gemma, gemma_case) -> None:
    """``model.language_model.*`` / ``model.vision_tower.*`` (transformers >= 4.52 save_pretrained)."""

    def rename(key: str) -> str:
        for old, new in (("language_model.model.", "model.language_model."), ("vision_tower.", "model.vision_tower.")):
            if key.startswith(old):
                return new + key[len(old) :]
        return key

    _rewrite_weights(gemma_copy, rename)
    encoder = GemmaTextEncoder.load(gemma_copy, dtype=mx.float32, max_length=gemma_case["max_length"])
    np.testing.assert_array_equal(_hidden(encoder, gemma_case["prompts"]), _hidden(tiny_gemma, gemma_case["prompts"]))


def test_text_only_folder_loads_the_same(gemma_copy: Path, tiny_gemma, gemma_case) -> None:
    """A ``gemma3_text`` config (the text_config itself) with ``model.*`` keys and no vision tower."""
    _write_config(gemma_copy, _config(gemma_copy)["text_config"])
    _rewrite_weights(gemma_copy, lambda k: "model." + k[21:] if k.startswith("language_model.model.") else None)
    encoder = GemmaTextEncoder.load(gemma_copy, dtype=mx.float32, max_length=gemma_case["max_length"])
    np.testing.assert_array_equal(_hidden(encoder, gemma_case["prompts"]), _hidden(tiny_gemma, gemma_case["prompts"]))


def test_transformers_5_config_format_reads_the_same(tiny_gemma_dir: Path) -> None:
    """``rope_parameters`` and ``layer_types`` (transformers 5) mean the same as rope_scaling / the pattern."""
    config = _config(tiny_gemma_dir)
    text = dict(config["text_config"])
    scaling = text.pop("rope_scaling")
    text["rope_parameters"] = {
        "full_attention": {**scaling, "rope_theta": text.pop("rope_theta")},
        "sliding_attention": {"rope_type": "default", "rope_theta": text.pop("rope_local_base_freq")},
    }
    text["layer_types"] = ["sliding_attention", "full_attention"] * (text["num_hidden_layers"] // 2)
    del text["sliding_window_pattern"]
    new = gemma_model_args({**config, "text_config": text}, "new")
    assert new == gemma_model_args(config, "old")
    text["layer_types"] = ["full_attention", "sliding_attention"] * (text["num_hidden_layers"] // 2)
    with pytest.raises(GemmaLoadError, match="layer_types is not 'every 1th layer global'"):
        gemma_model_args({**config, "text_config": text}, "odd")


def test_sparse_google_config_gets_transformers_defaults() -> None:
    """google's text_config lists only a few keys; the rest are transformers' Gemma3TextConfig defaults."""
    args = gemma_model_args(
        {
            "model_type": "gemma3",
            "text_config": {
                "hidden_size": 3840,
                "intermediate_size": 15360,
                "model_type": "gemma3_text",
                "num_attention_heads": 16,
                "num_hidden_layers": 48,
                "num_key_value_heads": 8,
                "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                "sliding_window": 1024,
            },
        },
        "google",
    )
    assert (args.vocab_size, args.head_dim, args.query_pre_attn_scalar) == (262_208, 256, 256)
    assert (args.rope_theta, args.rope_local_base_freq, args.sliding_window_pattern) == (1e6, 1e4, 6)
    assert args.rope_scaling == {"rope_type": "linear", "factor": 8.0}


@pytest.mark.parametrize("bits", [8, 4])
def test_mlx_quantized_folder(gemma_copy: Path, tiny_gemma, gemma_case, bits: int) -> None:
    """An mlx-lm style quantized folder: ``quantization`` in config.json, scales/biases next to packed weights.

    The MLP stays 8-bit in the 4-bit case (a mixed recipe): each layer's bits come from its shapes.
    """
    model = GemmaTextEncoder.load(gemma_copy, dtype=mx.float32).model

    def predicate(path: str, module: nn.Module) -> bool | dict:
        if not hasattr(module, "to_quantized"):
            return False
        return {"group_size": 32, "bits": 8} if ".mlp." in path else {"group_size": 32, "bits": bits}

    nn.quantize(model, group_size=32, bits=bits, class_predicate=predicate)
    weights = {f"language_model.{k}": v for k, v in tree_flatten(model.parameters())}
    (gemma_copy / "model.safetensors").unlink()
    mx.save_safetensors(str(gemma_copy / "model.safetensors"), weights)
    quantization = {"group_size": 32, "bits": bits, "mode": "affine"}
    _write_config(
        gemma_copy, {**_config(gemma_copy), "quantization": quantization, "quantization_config": quantization}
    )

    encoder = GemmaTextEncoder.load(gemma_copy, max_length=gemma_case["max_length"])
    layer = encoder.model.model.layers[0]
    assert isinstance(layer.self_attn.q_proj, nn.QuantizedLinear) and layer.self_attn.q_proj.bits == bits
    assert layer.mlp.up_proj.bits == 8
    assert isinstance(encoder.model.model.embed_tokens, nn.QuantizedEmbedding)
    ids, mask = encoder.tokenizer(gemma_case["prompts"])
    loaded = np.array(encoder.encode(gemma_case["prompts"])[0])
    np.testing.assert_array_equal(loaded, np.array(gemma_hidden_states(model, ids, mask)))  # exact round trip
    if bits == 8:
        assert max_rel_error(loaded, _hidden(tiny_gemma, gemma_case["prompts"])) < 0.02


# --- errors: one line naming what is wrong ------------------------------------------------------------------


def test_folder_without_weights(gemma_copy: Path) -> None:
    (gemma_copy / "model.safetensors").unlink()
    with pytest.raises(GemmaLoadError, match=r"no Gemma weights \(model\*\.safetensors\)") as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_weights_without_language_model(gemma_copy: Path) -> None:
    _rewrite_weights(gemma_copy, lambda k: k if k.startswith("vision_tower.") else None)
    with pytest.raises(GemmaLoadError, match="no Gemma language model"):
        GemmaTextEncoder.load(gemma_copy)


def test_foreign_weight_key(gemma_copy: Path) -> None:
    _rewrite_weights(
        gemma_copy, lambda k: "transformer.h.0.attn.weight" if k.endswith("layers.0.mlp.up_proj.weight") else k
    )
    with pytest.raises(GemmaLoadError, match=r"'transformer\.h\.0\.attn\.weight' belongs to no Gemma") as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_missing_layer_weight_is_named(gemma_copy: Path) -> None:
    _rewrite_weights(gemma_copy, lambda k: None if k == "language_model.model.layers.3.mlp.up_proj.weight" else k)
    with pytest.raises(ValueError, match=r"missing keys \[model.layers.3.mlp.up_proj.weight\]") as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_non_gemma_config(gemma_copy: Path) -> None:
    _write_config(gemma_copy, {**_config(gemma_copy), "model_type": "llama"})
    with pytest.raises(GemmaLoadError, match=r"model_type='llama' is not Gemma 3") as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_no_config(gemma_copy: Path) -> None:
    (gemma_copy / "config.json").unlink()
    with pytest.raises(GemmaLoadError, match=r"no config\.json"):
        GemmaTextEncoder.load(gemma_copy)


def test_unsupported_gemma_features(gemma_copy: Path) -> None:
    config = _config(gemma_copy)
    config["text_config"]["attn_logit_softcapping"] = 50.0
    _write_config(gemma_copy, {**config, "quantization_config": {"quant_method": "bitsandbytes"}})
    with pytest.raises(
        GemmaLoadError, match=r"attn_logit_softcapping=50.0 .*quantization_config \(method 'bitsandbytes'\)"
    ):
        GemmaTextEncoder.load(gemma_copy)


def test_missing_folder_and_file(tmp_path: Path, tiny_gemma_dir: Path) -> None:
    with pytest.raises(GemmaLoadError, match="no such folder"):
        GemmaTextEncoder.load(tmp_path / "nowhere")
    with pytest.raises(GemmaLoadError, match="not a folder"):
        GemmaTextEncoder.load(tiny_gemma_dir / "config.json")


def _edit_json(path: Path, edit) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


def test_tokenizer_with_other_special_tokens(gemma_copy: Path) -> None:
    """A Llama-style tokenizer: BOS is <s>, there is no <bos>."""
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (gemma_copy / name).write_text((gemma_copy / name).read_text().replace('"<bos>"', '"<s>"'))
    with pytest.raises(
        GemmaTokenizerError, match=r"not Gemma's tokenizer \(<bos> is id 3 \(Gemma: 2\); its BOS is '<s>'"
    ) as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_tokenizer_larger_than_the_embedding_table(gemma_copy: Path) -> None:
    """The tokenizer of a model with more tokens: ids would index past the embedding table."""
    vocab_size = _config(gemma_copy)["text_config"]["vocab_size"]

    def add_tokens(tok: dict) -> dict:
        n = len(tok["model"]["vocab"])  # the special tokens are in the vocab too
        extra = [{"id": n + i, "content": f"<extra_{i}>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i in range(vocab_size - n + 4)]  # fmt: skip
        return {**tok, "added_tokens": tok["added_tokens"] + extra}

    _edit_json(gemma_copy / "tokenizer.json", add_tokens)
    with pytest.raises(
        GemmaTokenizerError, match=rf"has {vocab_size + 4} tokens but the model's embedding table {vocab_size}"
    ) as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_lossy_tokenizer(gemma_copy: Path) -> None:
    """Gemma's special tokens but no byte fallback: unknown characters would silently become <unk>."""
    _edit_json(gemma_copy / "tokenizer.json", lambda t: {**t, "model": {**t["model"], "byte_fallback": False}})
    _edit_json(gemma_copy / "tokenizer_config.json", lambda c: {**c, "tokenizer_class": "PreTrainedTokenizerFast"})
    with pytest.raises(GemmaTokenizerError, match=r"lossy .* wrong tokenizer") as excinfo:
        GemmaTextEncoder.load(gemma_copy)
    _one_line(excinfo)


def test_no_tokenizer_files(gemma_copy: Path) -> None:
    (gemma_copy / "tokenizer.json").unlink()
    with pytest.raises(GemmaTokenizerError, match=r"no tokenizer.json or tokenizer.model"):
        GemmaTextEncoder.load(gemma_copy)


def test_checks_run_before_the_weights_are_read(gemma_copy: Path) -> None:
    """A wrong tokenizer is reported even when the weights are missing too: nothing heavy is read first."""
    (gemma_copy / "model.safetensors").unlink()
    (gemma_copy / "tokenizer.json").unlink()
    with pytest.raises(GemmaTokenizerError):
        GemmaTextEncoder.load(gemma_copy)
