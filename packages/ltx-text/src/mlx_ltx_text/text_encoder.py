"""Gemma 3 + its tokenizer: prompts → hidden states (ports ltx_core/text_encoders/gemma/encoders/base_encoder.py).

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
from mlx_ltx_text.gemma_loading import (
    gemma_model_args,
    load_gemma_model,
    read_gemma_config,
    resolve_gemma_path,
)
from mlx_ltx_text.tokenizer import TOKENIZER_MAX_LENGTH, LTXGemmaTokenizer

if TYPE_CHECKING:
    from mlx_lm.models import gemma3_text

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
