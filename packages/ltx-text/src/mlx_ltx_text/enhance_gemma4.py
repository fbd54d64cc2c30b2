"""Prompt enhancement with a dense Gemma 4 instruct model (ports LTXGemmaTextEncoder._enhance / enhance_t2v of
ltx_core/text_encoders/gemma/encoders/base_encoder.py for ``model_type: gemma4``, the reference's
``--prompt-enhancer-gemma-root``; LTX-2.5's own ``gemma4_unified`` encoder cannot enhance).

The model and tokenizer come from mlx-lm's own loading (``mlx_lm.load``: its ``gemma4`` module with KV sharing and
per-layer inputs, the vision and audio towers dropped). Decoding is the reference's Gemma 4 recipe:
``generate(do_sample=False, no_repeat_ngram_size=5, max_new_tokens=600)`` — greedy, and a token that would repeat a
5-gram of the prompt or the answer is never chosen (transformers' NoRepeatNGramLogitsProcessor). Greedy decoding
needs no seed. As for Gemma 3, the chat prompt is not left-padded to a multiple of 8 (a Flash-Attention detail).
Image-conditioned (I2V) enhancement needs the vision tower: not ported.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import resources
from typing import Any, cast

import mlx.core as mx

from mlx_ltx_text.enhance import clean_response
from mlx_ltx_text.gemma_loading import GemmaLoadError, read_gemma_config, resolve_gemma_path

MAX_NEW_TOKENS = 600
NO_REPEAT_NGRAM_SIZE = 5


@functools.cache
def gemma4_system_prompt(kind: str) -> str:
    """The reference's Gemma 4 system prompt: ``kind`` "t2v" or "i2v" (package data, verbatim)."""
    if kind not in ("t2v", "i2v"):
        raise ValueError(f"kind={kind!r} must be 't2v' or 'i2v'")
    return resources.files("mlx_ltx_text").joinpath("prompts", f"gemma4_{kind}_system_prompt.txt").read_text()


def banned_tokens(ids: Sequence[int], n: int = NO_REPEAT_NGRAM_SIZE) -> set[int]:
    """Tokens that would complete an ``n``-gram already in ``ids`` (its last n − 1 tokens seen before, followed by
    them): transformers' ``_get_ngrams`` / ``_calc_banned_ngram_tokens``."""
    if n < 1 or len(ids) + 1 < n:
        return set()
    prefix = tuple(ids[len(ids) - n + 1 :]) if n > 1 else ()
    return {ids[i + n - 1] for i in range(len(ids) - n + 1) if tuple(ids[i : i + n - 1]) == prefix}


class Gemma4Enhancer:
    """A dense Gemma 4 instruct model (e.g. gemma-4-E2B-it) for T2V prompt enhancement."""

    def __init__(self, model: Any, tokenizer: Any, eos_token_ids: Sequence[int]):
        self.model = model
        self.tokenizer = tokenizer
        self.eos_token_ids = set(eos_token_ids)

    @classmethod
    def load(cls, path_or_repo: str | os.PathLike) -> Gemma4Enhancer:
        """A Gemma 4 folder (``model_type: gemma4``) or Hugging Face repo id, through mlx-lm's loading."""
        from mlx_lm.utils import load

        folder = resolve_gemma_path(path_or_repo)
        config = read_gemma_config(folder)
        if config.get("model_type") != "gemma4":
            raise GemmaLoadError(
                f"{folder}: model_type={config.get('model_type')!r} is not a dense Gemma 4 instruct model ('gemma4'); "
                "the reference enhances with e.g. google/gemma-4-E2B-it"
            )
        model, tokenizer = load(str(folder))[:2]
        eos = config.get("eos_token_id", (config.get("text_config") or {}).get("eos_token_id", 1))
        return cls(model, tokenizer, [eos] if isinstance(eos, int) else list(eos))

    def generate(self, messages: list[dict[str, Any]], max_new_tokens: int = MAX_NEW_TOKENS) -> list[int]:
        """Greedy tokens after the chat prompt, never repeating a 5-gram; an end token stops early (dropped)."""
        from mlx_lm.generate import generate_step

        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens={max_new_tokens} must be >= 1")
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt = self.tokenizer.encode(text, add_special_tokens=False)

        def no_repeat(history: mx.array, logits: mx.array) -> mx.array:  # history: the prompt and the answer so far
            banned = sorted(banned_tokens(cast("list[int]", history.tolist())))
            if not banned:
                return logits
            return logits.at[:, mx.array(banned)].add(-mx.inf)

        tokens: list[int] = []
        steps = generate_step(
            mx.array(prompt),
            self.model,
            max_tokens=max_new_tokens,
            sampler=lambda logprobs: mx.argmax(logprobs, axis=-1),
            logits_processors=[no_repeat],
        )
        for token, _ in steps:
            if int(token) in self.eos_token_ids:
                break
            tokens.append(int(token))
        return tokens

    def enhance_t2v(self, prompt: str, *, max_new_tokens: int = MAX_NEW_TOKENS, system: str | None = None) -> str:
        """The enhanced text-to-video prompt, cleaned as the pipelines clean it."""
        messages = [
            {"role": "system", "content": system or gemma4_system_prompt("t2v")},
            {"role": "user", "content": f"user prompt: {prompt}"},
        ]
        tokens = self.generate(messages, max_new_tokens)
        return clean_response(self.tokenizer.decode(tokens, skip_special_tokens=True))
