"""Gemma's tokenizer through mlx-lm, checked to be Gemma's (ports ltx_core/text_encoders/gemma/tokenizer.py).

Encoding follows the reference: ``text.strip()``, exactly one leading ``<bos>`` (v1.2.0's rule), truncation to
``max_length`` tokens, left padding with ``<pad>`` and a 0/1 attention mask.

A tokenizer is accepted as Gemma's only when all of these hold (anything else is a ``GemmaTokenizerError``,
never a fallback):

1. Gemma's special tokens at Gemma's ids: ``<pad>`` = 0, ``<eos>`` = 1, ``<bos>`` = 2 (the tokenizer's BOS), and
   the chat tokens ``<start_of_turn>`` / ``<end_of_turn>`` exist.
2. Every token id fits the model: ``len(tokenizer) <= vocab_size`` of the Gemma config.
3. It is lossless like Gemma's byte-fallback BPE: a probe with accents, CJK and an emoji encodes without
   ``<unk>`` and decodes back byte-exactly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlx.core as mx

GEMMA_SPECIAL_IDS = {"<pad>": 0, "<eos>": 1, "<bos>": 2}
GEMMA_CHAT_TOKENS = ("<start_of_turn>", "<end_of_turn>")
_PROBE = "A café at dusk — naïve 日本の猫 🎬 (42%)"
TOKENIZER_MAX_LENGTH = 1024


class GemmaTokenizerError(ValueError):
    """The tokenizer is not Gemma's (or does not match the weights)."""


def check_gemma_tokenizer(
    tokenizer: Any, vocab_size: int, where: str | os.PathLike, chat_tokens: Sequence[str] = GEMMA_CHAT_TOKENS
) -> None:
    """Raise ``GemmaTokenizerError`` (one line) unless the Hugging Face ``tokenizer`` passes the rules above
    (``chat_tokens=()`` for Gemma 4's encoder, which never formats a chat)."""
    problems = []
    for token, want in GEMMA_SPECIAL_IDS.items():
        got = tokenizer.convert_tokens_to_ids(token)
        if got != want:
            problems.append(f"{token} is id {got} (Gemma: {want})")
    if tokenizer.bos_token != "<bos>":
        problems.append(f"its BOS is {tokenizer.bos_token!r} (Gemma: '<bos>')")
    vocab = tokenizer.get_vocab()
    problems += [f"no {token} token" for token in chat_tokens if token not in vocab]
    if problems:
        raise GemmaTokenizerError(
            f"{where}: not Gemma's tokenizer ({'; '.join(problems)}); "
            "use the tokenizer files shipped with the Gemma weights"
        )
    if len(tokenizer) > vocab_size:
        raise GemmaTokenizerError(
            f"{where}: the tokenizer has {len(tokenizer)} tokens but the model's embedding table {vocab_size}: "
            "tokenizer and weights come from different models"
        )
    ids = tokenizer.encode(_PROBE, add_special_tokens=False)
    decoded = tokenizer.decode(ids)
    if tokenizer.unk_token_id in ids or decoded != _PROBE:
        raise GemmaTokenizerError(
            f"{where}: the tokenizer is lossy ({_PROBE!r} → {decoded!r}) but Gemma's falls back to bytes: "
            "wrong tokenizer"
        )


class LTXGemmaTokenizer:
    """Wraps mlx-lm's ``TokenizerWrapper``; ``__call__`` gives the reference's left-padded batch."""

    def __init__(self, tokenizer: Any, max_length: int = TOKENIZER_MAX_LENGTH):
        if max_length < 1:
            raise ValueError(f"max_length={max_length} must be >= 1 (the reference uses 1024)")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.bos_token_id = GEMMA_SPECIAL_IDS["<bos>"]
        self.pad_token_id = GEMMA_SPECIAL_IDS["<pad>"]

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike,
        vocab_size: int,
        max_length: int = TOKENIZER_MAX_LENGTH,
        eos_token_ids: Sequence[int] | None = None,
    ) -> LTXGemmaTokenizer:
        """Load the folder's tokenizer with mlx-lm and check it is Gemma's for a model with ``vocab_size`` tokens."""
        from mlx_lm.utils import load_tokenizer

        folder = Path(folder)
        if not (folder / "tokenizer.json").exists() and not (folder / "tokenizer.model").exists():
            raise GemmaTokenizerError(f"{folder}: no tokenizer.json or tokenizer.model; copy Gemma's tokenizer files")
        wrapper = load_tokenizer(folder, eos_token_ids=list(eos_token_ids) if eos_token_ids else None)
        check_gemma_tokenizer(wrapper._tokenizer, vocab_size, folder)
        return cls(wrapper, max_length)

    def token_ids(self, text: str) -> list[int]:
        """``text`` stripped → ``[<bos>, …]`` truncated to ``max_length`` (a typed leading ``<bos>`` is not doubled)."""
        ids = self.tokenizer.encode(text.strip(), add_special_tokens=False)
        return self.with_one_bos(ids)[: self.max_length]

    def with_one_bos(self, ids: Sequence[int]) -> list[int]:
        """``ids`` with exactly one leading BOS."""
        start = 0
        while start < len(ids) and ids[start] == self.bos_token_id:
            start += 1
        return [self.bos_token_id, *ids[start:]]

    def __call__(self, prompts: Sequence[str]) -> tuple[mx.array, mx.array]:
        """Prompts → ``input_ids`` and ``attention_mask``, both (B, max_length) int32, padded on the left."""
        rows = [self.token_ids(p) for p in prompts]
        ids = [[self.pad_token_id] * (self.max_length - len(r)) + r for r in rows]
        mask = [[0] * (self.max_length - len(r)) + [1] * len(r) for r in rows]
        return mx.array(ids, dtype=mx.int32), mx.array(mask, dtype=mx.int32)

    def chat_ids(self, messages: list[dict[str, Any]]) -> list[int]:
        """Gemma's chat template with the generation prompt → token ids with exactly one BOS."""
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.with_one_bos(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)
