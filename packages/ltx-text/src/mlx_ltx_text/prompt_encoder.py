"""Prompt → (video context, audio context, mask): Gemma 3 then the text projection (ports encode_prompts of
ltx_pipelines/utils/helpers.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import mlx.core as mx

from mlx_ltx_core.utils import free
from mlx_ltx_text.embeddings_processor import EmbeddingsProcessor, EmbeddingsProcessorOutput
from mlx_ltx_text.enhance import generate_enhanced_prompt
from mlx_ltx_text.loading import load_text_projection
from mlx_ltx_text.text_encoder import GemmaTextEncoder


class PromptEncoder:
    """Holds Gemma (until ``free_gemma``) and the text projection.

    ``encode_prompt(prompt)`` keeps Gemma for further prompts; ``encode_prompts([prompt, negative_prompt])`` is the
    pipelines' path: every prompt through Gemma in one batch, the hidden states evaluated, Gemma freed, then the
    projection.
    """

    def __init__(self, text_encoder: GemmaTextEncoder | None, embeddings_processor: EmbeddingsProcessor):
        self.text_encoder = text_encoder
        self.embeddings_processor = embeddings_processor

    @classmethod
    def load(
        cls, gemma: str | os.PathLike, text_projection: str | os.PathLike, *, dtype: mx.Dtype | None = None
    ) -> PromptEncoder:
        """Gemma 3 folder (or Hugging Face repo id) and text_projection component folder; ``dtype`` casts both."""
        encoder = GemmaTextEncoder.load(gemma, dtype=dtype)
        dims = (encoder.model.args.hidden_size, encoder.model.args.num_hidden_layers)
        return cls(encoder, load_text_projection(text_projection, dtype=dtype, gemma=dims))

    def encode_prompt(self, prompt: str) -> EmbeddingsProcessorOutput:
        """One prompt → ``(video_context (1, T, Dv), audio_context (1, T, Da), mask (1, T))``; Gemma stays loaded."""
        hidden_states, mask = self._gemma().encode([prompt])
        return self.embeddings_processor(hidden_states, mask)

    def encode_prompts(
        self,
        prompts: Sequence[str],
        *,
        enhance_first_prompt: bool = False,
        enhance_prompt_seed: int = 42,
        free_gemma: bool = True,
    ) -> list[EmbeddingsProcessorOutput]:
        """Prompts (e.g. ``[prompt, negative_prompt]``) → one output per prompt, each evaluated.

        ``enhance_first_prompt`` rewrites ``prompts[0]`` with Gemma first (T2V system prompt, seeded sampling).
        """
        if not prompts:
            raise ValueError("prompts is empty: pass at least one prompt")
        text_encoder = self._gemma()
        prompts = list(prompts)
        if enhance_first_prompt:
            prompts[0] = generate_enhanced_prompt(text_encoder, prompts[0], seed=enhance_prompt_seed)
            self.enhanced_prompt = prompts[0]  # what was encoded, for a front end to show
        hidden_states, masks = text_encoder.encode(prompts)
        mx.eval(hidden_states, masks)
        del text_encoder
        if free_gemma:
            self.free_gemma()
        outputs = []
        for i in range(len(prompts)):
            out = self.embeddings_processor(hidden_states[i : i + 1], masks[i : i + 1])
            mx.eval(out)
            outputs.append(out)
        return outputs

    def free_gemma(self) -> None:
        """Drop Gemma and return its memory to the system."""
        self.text_encoder = None
        free()

    def _gemma(self) -> GemmaTextEncoder:
        if self.text_encoder is None:
            raise ValueError("Gemma was freed after encode_prompts; load a new PromptEncoder to encode more prompts")
        return self.text_encoder
