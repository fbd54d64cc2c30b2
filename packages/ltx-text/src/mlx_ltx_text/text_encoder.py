"""Gemma 3 / Gemma 4 + its tokenizer: prompts → hidden states (ports ltx_core/text_encoders/gemma/encoders/
base_encoder.py).

Prompt enhancement with the same model lives in ``enhance.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlx.core as mx

from mlx_ltx_text.gemma import gemma_hidden_states
from mlx_ltx_text.gemma4 import gemma4_hidden_states
from mlx_ltx_text.gemma4_loading import load_gemma4, load_gemma4_tokenizer
from mlx_ltx_text.gemma_loading import (
    gemma_model_args,
    load_gemma_model,
    read_gemma_config,
    resolve_gemma_path,
)
from mlx_ltx_text.tokenizer import TOKENIZER_MAX_LENGTH, LTXGemmaTokenizer, check_gemma_tokenizer

if TYPE_CHECKING:
    from mlx_lm.models import gemma3_text, gemma4_text

# transformers' GenerationConfig defaults, used when the folder has no generation_config.json.
_GENERATION_DEFAULTS = {"top_k": 50, "top_p": 1.0}


class GemmaTextEncoder:
    """``model`` (mlx-lm ``gemma3_text.Model``), ``tokenizer`` and the folder's sampling defaults."""

    def __init__(self, model: gemma3_text.Model, tokenizer: LTXGemmaTokenizer, generation_config: dict[str, Any]):
        self.model = model
        self.tokenizer = tokenizer
        self.generation_config = generation_config

    @classmethod
    def load(
        cls,
        path_or_repo: str | os.PathLike,
        *,
        dtype: mx.Dtype | None = None,
        lazy: bool = False,
        max_length: int = TOKENIZER_MAX_LENGTH,
    ) -> GemmaTextEncoder:
        """Load a Gemma 3 folder or Hugging Face repo id; ``dtype`` casts the non-quantized weights.

        Checked in order, each failure a one-line ``ValueError``: the folder, its config (Gemma 3), its tokenizer
        (Gemma's, fitting the vocabulary), its weights (strict: every key present, none extra).
        """
        folder = resolve_gemma_path(path_or_repo)
        config = read_gemma_config(folder)
        args = gemma_model_args(config, folder)
        generation = _generation_config(folder, config)
        tokenizer = LTXGemmaTokenizer.load(folder, args.vocab_size, max_length, generation["eos_token_id"])
        model = load_gemma_model(folder, config, dtype=dtype, lazy=lazy)
        return cls(model, tokenizer, generation)

    def encode(self, prompts: Sequence[str]) -> tuple[mx.array, mx.array]:
        """Prompts → hidden states (B, T, D, L) and attention mask (B, T), T = ``max_length`` (left padded)."""
        input_ids, attention_mask = self.tokenizer(prompts)
        return gemma_hidden_states(self.model, input_ids, attention_mask), attention_mask


def _generation_config(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Sampling defaults (top_k, top_p) and stop tokens as transformers' ``generate`` merges them."""
    path = folder / "generation_config.json"
    generation = json.loads(path.read_text()) if path.exists() else {}
    eos = generation.get("eos_token_id", config.get("eos_token_id", 1))
    return {
        "top_k": generation.get("top_k", _GENERATION_DEFAULTS["top_k"]),
        "top_p": generation.get("top_p", _GENERATION_DEFAULTS["top_p"]),
        "eos_token_id": [eos] if isinstance(eos, int) else list(eos),
    }


class Gemma4TextEncoder:
    """LTX-2.5's text encoder: ``model`` (mlx-lm ``gemma4_text.Model``), ``tokenizer`` and its Gemma ``config``
    (``gemma_version`` included). Encode only: the reference's ``gemma4_unified`` encoder cannot enhance prompts."""

    def __init__(self, model: gemma4_text.Model, tokenizer: LTXGemmaTokenizer, config: dict[str, Any]):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        dtype: mx.Dtype | None = None,
        lazy: bool = False,
        max_length: int = TOKENIZER_MAX_LENGTH,
    ) -> Gemma4TextEncoder:
        """Load a ``text_encoder`` component folder (ltx-convert writes it from the text-encoder file); checked in
        order, each failure one line: the folder, its config (Gemma 4 unified), the tokenizer, the weights (strict)."""
        model, assets, folder = load_gemma4(path, dtype=dtype, lazy=lazy)
        wrapper = load_gemma4_tokenizer(assets, folder.path)
        check_gemma_tokenizer(wrapper._tokenizer, model.args.vocab_size, folder.path, chat_tokens=())
        return cls(model, LTXGemmaTokenizer(wrapper, max_length), folder.config)

    def encode(self, prompts: Sequence[str]) -> tuple[mx.array, mx.array]:
        """Prompts → hidden states (B, T, D, L) and attention mask (B, T), T = ``max_length`` (left padded)."""
        input_ids, attention_mask = self.tokenizer(prompts)
        return gemma4_hidden_states(self.model, input_ids, attention_mask), attention_mask
