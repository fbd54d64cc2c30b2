"""Load the LTX-2.5 text encoder's Gemma 4 into mlx-lm's ``gemma4_text.Model`` (replaces ltx_core's
GemmaTextEncoderConfigurator for ``gemma4_unified``, its GEMMA4_UNIFIED_LLM_KEY_OPS and gemma_assets.py).

The input is the ``text_encoder`` component folder that ltx-convert writes from the shipped text-encoder file
(``gemma4-12b-with-proj-ltx-2.5-bf16.safetensors``): config.json is the file's ``gemma_config`` (transformers'
``Gemma4UnifiedConfig``), the weights are the language model's ``model.*`` keys — already mlx-lm's parameter
names — and the tokenizer assets the reference reads from the same file, kept as its U8 tensors:
``tokenizer_json`` (tokenizer.json) and ``hf_asset__<file name>`` (tokenizer_config.json, …).
KV sharing, per-layer inputs and MoE blocks (other Gemma 4 sizes) are refused: the 2.5 text tower has none.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlx.core as mx

from mlx_ltx_core.loader import ComponentFolder, apply_quantization, load_strict, load_weights, read_component
from mlx_ltx_text.gemma_loading import GemmaLoadError

if TYPE_CHECKING:  # mlx_lm imports transformers (seconds): only when a model is built
    from mlx_lm.models import gemma4_text

COMPONENT = "text_encoder"
TOKENIZER_JSON, ASSET_PREFIX = "tokenizer_json", "hf_asset__"
_TOKENIZER_FILES = ("tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")

# transformers' Gemma4UnifiedTextConfig defaults: what a key missing from the config means.
_HF_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262_144,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 30,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "global_head_dim": 512,
    "num_global_key_value_heads": None,
    "attention_k_eq_v": False,
    "rms_norm_eps": 1e-6,
    "sliding_window": 1024,
    "max_position_embeddings": 262_144,
    "tie_word_embeddings": True,
    "final_logit_softcapping": None,
}
_HF_ROPE_DEFAULTS = {
    "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
    "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1_000_000.0},
}
# Features the LTX-2.5 tower does not use and this driver does not run: each must keep this value.
_REQUIRED = {
    "attention_bias": False,
    "hidden_activation": "gelu_pytorch_tanh",
    "num_kv_shared_layers": 0,
    "hidden_size_per_layer_input": 0,
    "enable_moe_block": False,
    "use_double_wide_mlp": False,
}
GEMMA4_MODEL_TYPES = ("gemma4_unified",)


def gemma4_text_config(config: dict[str, Any], where: str | os.PathLike) -> dict[str, Any]:
    """The language model's config: ``text_config`` of a ``gemma4_unified`` config."""
    model_type = config.get("model_type")
    if model_type not in GEMMA4_MODEL_TYPES:
        raise GemmaLoadError(
            f"{where}: model_type={model_type!r} is not the LTX-2.5 text encoder's Gemma 4 ('gemma4_unified'); "
            "pass gemma4-12b-with-proj-ltx-2.5-bf16.safetensors or its conversion"
        )
    return config.get("text_config") or {}


def gemma4_model_args(config: dict[str, Any], where: str | os.PathLike) -> gemma4_text.ModelArgs:
    """mlx-lm ``ModelArgs`` with transformers' meaning of the config (its defaults, layer types, RoPE)."""
    from mlx_lm.models import gemma4_text

    text = gemma4_text_config(config, where)
    bad = [f"{k}={text[k]!r} (expected {v!r})" for k, v in _REQUIRED.items() if text.get(k, v) != v]
    if text.get("use_bidirectional_attention", "vision") not in (None, "vision"):  # "all": bidirectional text
        bad.append(f"use_bidirectional_attention={text['use_bidirectional_attention']!r} (expected 'vision')")
    args = {k: text.get(k, v) for k, v in _HF_TEXT_DEFAULTS.items()}
    rope = _rope_parameters(text, bad)
    if bad:
        raise GemmaLoadError(f"{where}: unsupported Gemma 4 config: {'; '.join(bad)}")
    return gemma4_text.ModelArgs.from_dict(
        {
            "model_type": "gemma4_text",
            **args,
            **dict.fromkeys(("num_kv_shared_layers", "hidden_size_per_layer_input"), 0),
            "use_double_wide_mlp": False,
            "enable_moe_block": False,
            "rope_parameters": rope,
            "layer_types": _layer_types(text, args["num_hidden_layers"]),
        }
    )


def _rope_parameters(text: dict[str, Any], bad: list[str]) -> dict[str, dict[str, Any]]:
    """Per layer type; sliding layers rotate every dim ("default"), global ones a fraction ("proportional")."""
    rope = {**_HF_ROPE_DEFAULTS, **(text.get("rope_parameters") or {})}
    sliding, full = rope["sliding_attention"], rope["full_attention"]
    if sliding.get("rope_type") != "default" or sliding.get("partial_rotary_factor", 1.0) != 1.0:
        bad.append(f"sliding-layer rope {sliding!r} (expected default, all dims)")
    if full.get("rope_type") != "proportional":
        bad.append(f"global-layer rope {full!r} (expected proportional)")
    return {"sliding_attention": dict(sliding), "full_attention": dict(full)}


def _layer_types(text: dict[str, Any], n_layers: int) -> list[str]:
    """As transformers: every 6th layer global by default, and the last layer always global."""
    types = text.get("layer_types") or [
        "full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(n_layers)
    ]
    return [*types[: n_layers - 1], "full_attention"]


def is_gemma4_asset(key: str) -> bool:
    """A tokenizer / processor file stored as a U8 tensor (not a parameter)."""
    return key == TOKENIZER_JSON or key.startswith(ASSET_PREFIX)


def _build(folder: ComponentFolder) -> gemma4_text.Model:
    """The model a text_encoder folder describes (ltx-convert's shape check calls this too)."""
    from mlx_lm.models import gemma4_text

    return gemma4_text.Model(gemma4_model_args(folder.config, folder.path))


def load_gemma4(
    path: str | os.PathLike, *, dtype: mx.Dtype | None = None, lazy: bool = False
) -> tuple[gemma4_text.Model, dict[str, bytes], ComponentFolder]:
    """(model, tokenizer assets by file name, the folder) of a text_encoder component folder: strict load, quantized
    as recorded, ``dtype`` casting the float weights."""
    folder = read_component(path, COMPONENT)
    model = _build(folder)
    weights = load_weights(folder)
    assets = {
        "tokenizer.json" if k == TOKENIZER_JSON else k[len(ASSET_PREFIX) :]: _bytes(weights.pop(k))
        for k in [k for k in weights if is_gemma4_asset(k)]
    }
    if "tokenizer.json" not in assets:
        raise GemmaLoadError(
            f"{folder.path}: no {TOKENIZER_JSON} tensor (the text-encoder file's tokenizer); re-convert"
        )
    apply_quantization(model, folder.quantization, weights)
    if dtype is not None:
        weights = {k: v.astype(dtype) if mx.issubdtype(v.dtype, mx.floating) else v for k, v in weights.items()}
    load_strict(model, weights, folder.path)
    model.eval()
    if not lazy:
        mx.eval(model.parameters())
    return model, assets, folder


def _bytes(tensor: mx.array) -> bytes:
    """A U8 asset tensor's bytes (mx.array exports the buffer protocol; its stubs do not say so)."""
    return bytes(memoryview(tensor))  # pyright: ignore[reportArgumentType]


def load_gemma4_tokenizer(assets: dict[str, bytes], where: str | os.PathLike) -> Any:
    """mlx-lm's ``TokenizerWrapper`` from the stored tokenizer files (written to a temporary folder, then gone)."""
    from mlx_lm.utils import load_tokenizer

    with tempfile.TemporaryDirectory(prefix="ltx-gemma4-tokenizer.") as tmp:
        for name in ("tokenizer.json", *_TOKENIZER_FILES):
            if name in assets:
                (Path(tmp) / name).write_bytes(assets[name])
        try:
            return load_tokenizer(Path(tmp))
        except Exception as e:  # transformers' errors vary by tokenizer class: one line naming the folder
            raise GemmaLoadError(f"{where}: the stored Gemma 4 tokenizer does not load ({e})") from e


def gemma_version(config: dict[str, Any]) -> str | None:
    """The root-level ``gemma_version`` of a Gemma config (``gemma4-12b-ltx-v1`` for LTX-2.5's)."""
    value = config.get("gemma_version")
    return value if isinstance(value, str) else None
