"""Load Gemma 3 into mlx-lm's ``gemma3_text.Model`` (replaces ltx_core's GemmaTextEncoderConfigurator and
GEMMA_LLM_KEY_OPS; reads the config from the folder as v1.2.0 does).

Accepted: google's Hugging Face folder (``google/gemma-3-12b-it-qat-q4_0-unquantized``: ``model_type: gemma3``,
keys ``language_model.model.*``), the transformers >= 4.52 layout, text-only ``gemma3_text`` folders, and MLX
folders quantized by mlx-lm / mlx-vlm (a ``quantization`` block in config.json), from a local path or a Hugging
Face repo id. The vision tower is dropped. Anything else fails with a one-line ``GemmaLoadError``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.loader import load_strict
from mlx_ltx_core.repo_id import parse_repo_id
from mlx_ltx_text.gemma_keys import gemma_key

if TYPE_CHECKING:  # mlx_lm imports transformers (seconds): imported where a model is built
    from mlx_lm.models import gemma3_text

# transformers' Gemma3TextConfig defaults: what a key missing from config.json means (google's configs are sparse).
_HF_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262_208,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "rms_norm_eps": 1e-6,
    "query_pre_attn_scalar": 256,
    "sliding_window": 4096,
    "max_position_embeddings": 131_072,
}
# Features mlx-lm's gemma3_text does not implement: each must keep this value.
_REQUIRED = {
    "attn_logit_softcapping": None,
    "final_logit_softcapping": None,
    "use_bidirectional_attention": False,
    "attention_bias": False,
    "hidden_activation": "gelu_pytorch_tanh",
}
_DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "tokenizer.model"]


class GemmaLoadError(ValueError):
    """A Gemma folder that cannot be loaded; the message says what is wrong."""


def resolve_gemma_path(path_or_repo: str | os.PathLike) -> Path:
    """A local folder, or a Hugging Face repo id (``owner/name``) downloaded to the local cache."""
    path = Path(path_or_repo).expanduser()
    if path.exists():
        if not path.is_dir():
            raise GemmaLoadError(f"{path}: not a folder; pass the Gemma 3 folder (config.json, tokenizer, weights)")
        return path
    repo = parse_repo_id(str(path_or_repo))
    if repo is None or repo.file is not None:
        raise GemmaLoadError(f"{path}: no such folder (and not a Hugging Face repo id like google/gemma-3-12b-it)")
    from mlx_ltx_core.hub_cache import HubError, download_snapshot

    try:  # the cache first (offline works), the hub when the cache lacks it
        return download_snapshot(repo.repo, None, allow_patterns=_DOWNLOAD_PATTERNS)
    except HubError as e:  # not cached while offline, unreachable, no such repo, gated: one line each
        raise GemmaLoadError(f"{path_or_repo}: no such folder, and {e}") from e


def read_gemma_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.exists():
        raise GemmaLoadError(f"{folder}: no config.json; this is not a Gemma 3 model folder")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise GemmaLoadError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})") from e


def gemma_text_config(config: dict[str, Any], where: str | os.PathLike) -> dict[str, Any]:
    """The language model's config: ``text_config`` of a ``gemma3`` config, or a ``gemma3_text`` config itself."""
    model_type = config.get("model_type")
    if model_type == "gemma3":
        return config.get("text_config") or {}
    if model_type == "gemma3_text":
        return config
    raise GemmaLoadError(
        f"{where}: model_type={model_type!r} is not Gemma 3 ('gemma3' or 'gemma3_text'); "
        "pass google/gemma-3-12b-it-qat-q4_0-unquantized or an MLX conversion of it"
    )


def gemma_model_args(config: dict[str, Any], where: str | os.PathLike) -> gemma3_text.ModelArgs:
    """mlx-lm ``ModelArgs`` with transformers' meaning of the config (defaults, rope formats, layer types)."""
    from mlx_lm.models import gemma3_text

    text = gemma_text_config(config, where)
    bad = [f"{k}={text[k]!r} (expected {v!r})" for k, v in _REQUIRED.items() if k in text and text[k] != v]
    if "quantization_config" in config and "quantization" not in config:  # mlx-lm writes both; others: not MLX
        bad.append(f"quantization_config (method {config['quantization_config'].get('quant_method')!r})")
    if bad:
        raise GemmaLoadError(f"{where}: unsupported Gemma config: {'; '.join(bad)}")
    args = {k: text.get(k, v) for k, v in _HF_TEXT_DEFAULTS.items()}
    theta, local_theta, scaling = _rope(text, where)
    return gemma3_text.ModelArgs.from_dict(
        {
            "model_type": "gemma3_text",
            **args,
            "rope_theta": theta,
            "rope_local_base_freq": local_theta,
            "rope_scaling": scaling,
            "sliding_window_pattern": _sliding_window_pattern(text, args["num_hidden_layers"], where),
        }
    )


def _rope(text: dict[str, Any], where: str | os.PathLike) -> tuple[float, float, dict | None]:
    """(global θ, local θ, scaling) from the 4.5x keys or transformers 5's ``rope_parameters``."""
    params = text.get("rope_parameters") or {}
    full, local = dict(params.get("full_attention") or {}), dict(params.get("sliding_attention") or {})
    theta = float(text.get("rope_theta", full.get("rope_theta", 1_000_000.0)))
    local_theta = float(text.get("rope_local_base_freq", local.get("rope_theta", 10_000.0)))
    scaling = text.get("rope_scaling") or {k: v for k, v in full.items() if k != "rope_theta"}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    local_kind = local.get("rope_type", "default")
    if kind not in ("default", "linear") or local_kind != "default":
        raise GemmaLoadError(
            f"{where}: unsupported Gemma rope (global {kind!r}, local {local_kind!r}; Gemma 3: linear, default)"
        )
    return (
        theta,
        local_theta,
        ({"rope_type": "linear", "factor": float(scaling["factor"])} if kind == "linear" else None),
    )


def _sliding_window_pattern(text: dict[str, Any], n_layers: int, where: str | os.PathLike) -> int:
    """Every ``pattern``-th layer is global; ``layer_types`` (transformers 5) must follow such a pattern."""
    pattern = int(text.get("sliding_window_pattern", text.get("_sliding_window_pattern", 6)))
    types = text.get("layer_types")
    if types is None:
        return pattern
    pattern = types.index("full_attention") + 1 if "full_attention" in types else n_layers + 1
    expected = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n_layers)]
    if list(types) != expected:
        raise GemmaLoadError(f"{where}: layer_types is not 'every {pattern}th layer global'; unsupported Gemma layout")
    return pattern


def load_gemma_model(
    folder: Path, config: dict[str, Any], *, dtype: mx.Dtype | None = None, lazy: bool = False
) -> gemma3_text.Model:
    """Build mlx-lm's ``gemma3_text.Model`` and load the folder's weights strictly (quantized as recorded)."""
    from mlx_lm.models import gemma3_text

    files = sorted(folder.glob("model*.safetensors"))
    if not files:
        raise GemmaLoadError(f"{folder}: no Gemma weights (model*.safetensors); download the complete Gemma 3 folder")
    weights: dict[str, mx.array] = {}
    for file in files:
        # mx.load's stub unions every format it reads; a .safetensors file loads as a dict.
        for key, value in cast(dict[str, mx.array], mx.load(str(file))).items():
            try:
                mlx_key = gemma_key(key)
            except ValueError as e:
                raise GemmaLoadError(f"{file}: {e}; this is not a Gemma 3 checkpoint") from None
            if mlx_key is not None:
                weights[mlx_key] = value
    if "model.embed_tokens.weight" not in weights:
        raise GemmaLoadError(f"{folder}: the safetensors hold no Gemma language model (no embed_tokens weight)")
    model = gemma3_text.Model(gemma_model_args(config, folder))
    weights = model.sanitize(weights)  # no lm_head in the checkpoint: tie it to the embeddings
    _quantize(model, config.get("quantization") or gemma_text_config(config, folder).get("quantization"), weights)
    if dtype is not None:
        weights = {k: v.astype(dtype) if mx.issubdtype(v.dtype, mx.floating) else v for k, v in weights.items()}
    load_strict(model, weights, folder)
    model.eval()
    if not lazy:
        mx.eval(model.parameters())
    return model


def _quantize(model: nn.Module, quantization: dict[str, Any] | None, weights: dict[str, mx.array]) -> None:
    """Quantize exactly the layers whose ``scales`` are stored, each with the bits / group size its shapes imply."""
    if not quantization:
        return
    from mlx_lm.utils import infer_quant_config

    def predicate(path: str, module: nn.Module) -> bool | dict:
        return f"{path}.scales" in weights and infer_quant_config(path, module, weights)

    nn.quantize(
        model,
        group_size=quantization["group_size"],
        bits=quantization["bits"],
        mode=quantization.get("mode", "affine"),
        class_predicate=predicate,
    )
