"""The reference's tokenization: strip, exactly one BOS, truncation, left padding; Gemma's chat template."""

from __future__ import annotations

import numpy as np

from mlx_ltx_text.enhance import system_prompt
from mlx_ltx_text.tokenizer import LTXGemmaTokenizer

BOS, PAD = 2, 0


def test_one_bos_left_padding(tiny_gemma) -> None:
    tok = tiny_gemma.tokenizer
    ids, mask = tok(["a cat", "<bos>a cat", " \n <bos><bos>a cat  "])
    ids, mask = np.array(ids), np.array(mask)
    assert ids.shape == mask.shape == (3, tok.max_length)
    np.testing.assert_array_equal(ids[1], ids[0])  # a typed BOS is not doubled, surrounding blanks stripped
    np.testing.assert_array_equal(ids[2], ids[0])
    n = int(mask[0].sum())
    assert (ids[0, : tok.max_length - n] == PAD).all() and (mask[0, : tok.max_length - n] == 0).all()
    assert ids[0, tok.max_length - n] == BOS and (ids[0, tok.max_length - n + 1 :] != BOS).all()
    assert tok.decode(ids[0].tolist()) == "a cat"


def test_truncation_keeps_bos(tiny_gemma) -> None:
    tok = LTXGemmaTokenizer(tiny_gemma.tokenizer.tokenizer, max_length=5)
    ids, mask = tok(["A lighthouse on a rocky cliff, waves crashing below"])
    assert np.array(mask).all() and int(ids[0, 0]) == BOS
    full = tiny_gemma.tokenizer.tokenizer.encode("A lighthouse on a rocky cliff", add_special_tokens=False)
    np.testing.assert_array_equal(np.array(ids)[0, 1:], full[:4])


def test_chat_ids_have_one_bos(tiny_gemma) -> None:
    """Gemma 3's template renders <bos> itself; the tokenizer must not add a second one."""
    messages = [
        {"role": "system", "content": system_prompt("t2v")},
        {"role": "user", "content": "user prompt: a cat"},
    ]
    ids = tiny_gemma.tokenizer.chat_ids(messages)
    assert ids[0] == BOS and ids.count(BOS) == 1
    text = tiny_gemma.tokenizer.tokenizer.decode(ids)
    assert text.startswith("<bos><start_of_turn>user\nYou are a Creative Assistant.")
    assert text.endswith("user prompt: a cat<end_of_turn>\n<start_of_turn>model\n")
