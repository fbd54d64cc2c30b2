"""Prompt enhancement: the reference's system prompts and clean-up, transformers' sampling order, seeded
reproducibility and the token limit (the tiny random Gemma answers gibberish)."""

from __future__ import annotations

import copy
import hashlib
import inspect

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_text.enhance import (
    MAX_NEW_TOKENS,
    TEMPERATURE,
    clean_response,
    enhance_t2v,
    generate,
    generate_enhanced_prompt,
    sample_token,
    system_prompt,
)


def _messages(system: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": "user prompt: a cat on a beach"}]


@pytest.fixture
def no_eos(tiny_gemma):
    """The tiny Gemma with no end token, so every generation runs to its limit."""
    encoder = copy.copy(tiny_gemma)
    encoder.generation_config = {**tiny_gemma.generation_config, "eos_token_id": []}
    return encoder


def test_system_prompts_are_the_reference_files() -> None:
    """Byte-identical to ltx-core 1.0.0's gemma_{t2v,i2v}_system_prompt.txt (md5 from the reference notes)."""
    md5 = {kind: hashlib.md5(system_prompt(kind).encode()).hexdigest() for kind in ("t2v", "i2v")}
    assert md5 == {"t2v": "2ecb3e7b681ccf3fb48f8f6271b4adc5", "i2v": "53dafab18ac3eb9cfb6bb5b52567b276"}
    with pytest.raises(ValueError, match="'v2v' must be 't2v' or 'i2v'"):
        system_prompt("v2v")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u201cStyle: cinematic \u2014 a cat\u2019s walk\u201d", "Style: cinematic - a cat's walk\""),
        ("\n\n**Style:** realistic. A dog\u2013cat duo", "Style:** realistic. A dog-cat duo"),
        ("\u00a0\u2212 5\u2032 tall man", "tall man"),
        ("x\u00a0=\u00a01\u2212y", "x = 1-y"),
        ("123 !!", "123 !!"),  # no letter at all: unchanged
        ("", ""),
        ("Élan: \u2018quoted\u2019", "Élan: 'quoted'"),
    ],
)
def test_clean_response(raw: str, clean: str) -> None:
    assert clean_response(raw) == clean


def test_sampling_order_and_filters() -> None:
    """temperature → top-k → top-p, as transformers' warpers: only the kept tokens are ever drawn."""
    logits = mx.broadcast_to(mx.array([3.0, 2.0, 1.0, 0.0, -1.0]), (4000, 5))
    key = mx.random.key(0)
    assert set(np.array(sample_token(logits, key, 0.7, 1, 1.0)).tolist()) == {0}  # top_k = 1 is greedy
    assert set(np.array(sample_token(logits, key, 1.0, 3, 1.0)).tolist()) == {0, 1, 2}
    # probs ≈ .64 .24 .09 .03 .01: top_p = 0.85 keeps the two most likely tokens
    draws = np.array(sample_token(logits, key, 1.0, 0, 0.85))
    assert set(draws.tolist()) == {0, 1}
    assert abs((draws == 0).mean() - np.exp(1) / (np.exp(1) + 1)) < 0.03
    # temperature first: at T = 0.25 the same top_p keeps the top token only
    assert set(np.array(sample_token(logits, key, 0.25, 0, 0.85)).tolist()) == {0}


def test_generation_is_reproducible_under_a_seed(tiny_gemma) -> None:
    messages = _messages(system_prompt("t2v"))
    first = generate(tiny_gemma, messages, seed=7, max_new_tokens=6)
    assert first == generate(tiny_gemma, messages, seed=7, max_new_tokens=6)
    assert first  # the tiny model's ends are rare: a seed-dependent, non-empty answer


def test_seeds_change_the_sample(no_eos) -> None:
    messages = _messages("Be brief.")
    samples = {tuple(generate(no_eos, messages, seed=s, max_new_tokens=4)) for s in range(12)}
    assert len(samples) > 1


def test_token_limit(no_eos) -> None:
    assert len(generate(no_eos, _messages("Be brief."), seed=1, max_new_tokens=9)) == 9
    for fn in (generate, enhance_t2v, generate_enhanced_prompt):
        assert inspect.signature(fn).parameters["max_new_tokens"].default == MAX_NEW_TOKENS == 512
    assert TEMPERATURE == 0.7
    with pytest.raises(ValueError, match="max_new_tokens=0 must be >= 1"):
        generate(no_eos, _messages("Be brief."), seed=1, max_new_tokens=0)


@pytest.mark.slow
def test_default_limit_is_512_tokens(no_eos) -> None:
    assert len(generate(no_eos, _messages("Be brief."), seed=3)) == 512


def test_end_token_stops_and_is_dropped(no_eos) -> None:
    messages = _messages("Be brief.")
    tokens = generate(no_eos, messages, seed=2, max_new_tokens=5)
    no_eos.generation_config = {**no_eos.generation_config, "eos_token_id": [tokens[0]]}
    assert generate(no_eos, messages, seed=2, max_new_tokens=5) == []


def test_enhanced_prompt_is_the_cleaned_answer(tiny_gemma) -> None:
    raw = enhance_t2v(tiny_gemma, "a cat on a beach", seed=11, max_new_tokens=8)
    assert generate_enhanced_prompt(tiny_gemma, "a cat on a beach", seed=11, max_new_tokens=8) == clean_response(raw)


def test_image_enhancement_is_not_ported(tiny_gemma) -> None:
    with pytest.raises(NotImplementedError, match="vision tower"):
        generate_enhanced_prompt(tiny_gemma, "a cat", image=np.zeros((8, 8, 3), np.uint8))
