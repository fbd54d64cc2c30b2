"""Prompt enhancement with Gemma 3 (ports GemmaTextEncoder.enhance_t2v of ltx_core/text_encoders/gemma/encoders/
base_encoder.py and clean_response / generate_enhanced_prompt of ltx_pipelines/utils/helpers.py).

Sampling follows transformers' ``generate(do_sample=True, temperature=0.7, max_new_tokens=512)`` merged with the
Gemma folder's generation_config.json (top_k 64, top_p 0.95 for Gemma 3): temperature, then top-k, then top-p,
then a categorical draw, stopping at an end token. The draws come from ``mx.random`` keys derived from ``seed``,
so a seed reproduces its output here, but not torch's.

Deviations kept on purpose: the chat prompt has exactly one BOS (the reference's processor adds a second one to
the template's), and no alignment padding to a multiple of 8 (a Flash-Attention detail). Generation runs mlx-lm's
own forward and caches (batch 1, no padding), whose embedding scale is rounded to bfloat16: exact for the real
bfloat16 weights, 5e-4 apart in float32. Image-conditioned (I2V) enhancement needs Gemma's vision tower: not ported.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import mlx.core as mx

from mlx_ltx_text.text_encoder import GemmaTextEncoder

TEMPERATURE = 0.7
MAX_NEW_TOKENS = 512
_UNICODE_REPLACEMENTS = str.maketrans("\u2018\u2019\u201c\u201d\u2014\u2013\u00a0\u2032\u2212", "''\"\"-- '-")


@functools.cache
def system_prompt(kind: str) -> str:
    """The reference's system prompt: ``kind`` "t2v" or "i2v" (package data, verbatim)."""
    if kind not in ("t2v", "i2v"):
        raise ValueError(f"kind={kind!r} must be 't2v' or 'i2v'")
    return resources.files("mlx_ltx_text").joinpath("prompts", f"gemma_{kind}_system_prompt.txt").read_text()


def clean_response(text: str) -> str:
    """Curly quotes, dashes, NBSP, prime and minus → ASCII; drop leading non-letters (Gemma tends to add them)."""
    text = text.translate(_UNICODE_REPLACEMENTS)
    for i, char in enumerate(text):
        if char.isalpha():
            return text[i:]
    return text


def sample_token(logits: mx.array, key: mx.array, temperature: float, top_k: int, top_p: float) -> mx.array:
    """One draw from (1, V) logits with transformers' warpers in their order: temperature → top-k → top-p."""
    logits = logits.astype(mx.float32) / temperature
    if 0 < top_k < logits.shape[-1]:
        kth = mx.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = mx.where(logits < kth, -mx.inf, logits)
    if top_p < 1.0:
        order = mx.argsort(logits, axis=-1)  # ascending
        cumulative = mx.cumsum(mx.softmax(mx.take_along_axis(logits, order, axis=-1), axis=-1), axis=-1)
        # Drop the low tail whose mass is <= 1 - top_p; the most likely token always stays.
        drop_sorted = (cumulative <= 1 - top_p) & (mx.arange(logits.shape[-1]) < logits.shape[-1] - 1)
        drop = mx.put_along_axis(mx.zeros(logits.shape, dtype=mx.bool_), order, drop_sorted, axis=-1)
        logits = mx.where(drop, -mx.inf, logits)
    return mx.random.categorical(logits, key=key)


def generate(
    text_encoder: GemmaTextEncoder,
    messages: list[dict[str, Any]],
    *,
    seed: int,
    max_new_tokens: int = MAX_NEW_TOKENS,
    temperature: float = TEMPERATURE,
) -> list[int]:
    """Sample at most ``max_new_tokens`` tokens after the chat prompt (an end token stops early and is dropped)."""
    from mlx_lm.generate import generate_step

    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens} must be >= 1")
    config = text_encoder.generation_config
    prompt = mx.array(text_encoder.tokenizer.chat_ids(messages))
    key = mx.random.key(seed)

    def sampler(logprobs: mx.array) -> mx.array:
        nonlocal key
        key, sub = mx.random.split(key)
        return sample_token(logprobs, sub, temperature, config["top_k"], config["top_p"])

    stop = set(config["eos_token_id"])  # generation_config.json's, as transformers' generate
    tokens: list[int] = []
    for token, _ in generate_step(prompt, text_encoder.model, max_tokens=max_new_tokens, sampler=sampler):
        if int(token) in stop:
            break
        tokens.append(int(token))
    return tokens


def enhance_t2v(
    text_encoder: GemmaTextEncoder,
    prompt: str,
    *,
    seed: int = 10,
    max_new_tokens: int = MAX_NEW_TOKENS,
    system: str | None = None,
) -> str:
    """The raw enhanced prompt for text-to-video (the reference's default seed is 10 here, 42 in the pipelines)."""
    messages = [
        {"role": "system", "content": system or system_prompt("t2v")},
        {"role": "user", "content": f"user prompt: {prompt}"},
    ]
    tokens = generate(text_encoder, messages, seed=seed, max_new_tokens=max_new_tokens)
    return text_encoder.tokenizer.decode(tokens)


def generate_enhanced_prompt(
    text_encoder: GemmaTextEncoder,
    prompt: str,
    *,
    image: Any = None,
    seed: int = 42,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> str:
    """Enhance ``prompt`` and clean the answer, as the pipelines do before encoding."""
    if image is not None:
        raise NotImplementedError(
            "image-conditioned (I2V) prompt enhancement needs Gemma 3's vision tower, which is not ported; "
            "enhance without the image"
        )
    return clean_response(enhance_t2v(text_encoder, prompt, seed=seed, max_new_tokens=max_new_tokens))
