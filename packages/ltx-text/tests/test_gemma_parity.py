"""The tiny random Gemma 3 against transformers' Gemma3ForConditionalGeneration (float64 goldens).

Every hidden state (scaled embeddings, each layer, final norm) on a left-padded batch with a sliding window
smaller than the prompts, at every position including the padding.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from mlx_ltx_text.gemma import attention_mask_4d, gemma_hidden_states

from ltx_testing import assert_parity, group, load

REL = 1e-4


def test_tokenization_matches_reference(tiny_gemma, gemma_case) -> None:
    """Same ids and mask as ltx-core's LTXVGemmaTokenizer (strip, BOS, truncation, left padding with <pad>)."""
    inputs = group(load("text", gemma_case["file"]), "inputs")
    ids, mask = tiny_gemma.tokenizer(gemma_case["prompts"])
    np.testing.assert_array_equal(np.array(ids), inputs["input_ids"])
    np.testing.assert_array_equal(np.array(mask), inputs["attention_mask"])


def test_hidden_states_match_transformers(tiny_gemma, gemma_case) -> None:
    tensors = load("text", gemma_case["file"])
    inputs, expected = group(tensors, "inputs"), group(tensors, "outputs_f64")["hidden_states_BTDL"]
    config = tiny_gemma.model.args
    assert config.sliding_window < max(gemma_case["valid_tokens"])  # the window really cuts the prompts
    hidden = gemma_hidden_states(tiny_gemma.model, mx.array(inputs["input_ids"]), mx.array(inputs["attention_mask"]))
    assert hidden.shape == (*inputs["input_ids"].shape, config.hidden_size, config.num_hidden_layers + 1)
    for i in range(expected.shape[-1]):
        assert_parity(hidden[..., i], expected[..., i], REL, f"hidden state {i}")


def test_encode_is_tokenizer_then_hidden_states(tiny_gemma, gemma_case) -> None:
    hidden, mask = tiny_gemma.encode(gemma_case["prompts"])
    expected = group(load("text", gemma_case["file"]), "outputs_f64")["hidden_states_BTDL"]
    assert_parity(hidden, expected, REL, "encode")
    assert mask.shape == hidden.shape[:2]


def test_padding_aware_mask() -> None:
    """Causal, sliding window (i − j < W), pad keys hidden; rows that see nothing are flagged."""
    mask = mx.array([[0, 0, 1, 1, 1, 1]])
    allowed, row_valid = attention_mask_4d(mask, window=2)
    expected = np.array(
        [
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 1, 1, 0, 0],
            [0, 0, 0, 1, 1, 0],
            [0, 0, 0, 0, 1, 1],
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(np.array(row_valid)[0, 0, :, 0], expected.any(axis=1))
    np.testing.assert_array_equal(np.array(allowed)[0, 0, 2:], expected[2:])
    assert np.array(allowed)[0, 0, :2].all()  # opened (then zeroed), so the softmax never sees an empty row
    full, _ = attention_mask_4d(mask, window=None)
    np.testing.assert_array_equal(np.array(full)[0, 0, 5], [0, 0, 1, 1, 1, 1])


def test_prompt_rows_are_independent(tiny_gemma, gemma_case) -> None:
    """A prompt's hidden states do not depend on the other prompts of the batch."""
    batch, _ = tiny_gemma.encode(gemma_case["prompts"])
    alone, _ = tiny_gemma.encode(gemma_case["prompts"][2:])
    np.testing.assert_allclose(np.array(batch[2:]), np.array(alone), atol=1e-5)
