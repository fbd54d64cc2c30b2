"""Prompt → (video context, audio context, mask): Gemma 3 (LTX-2, 2.3) or Gemma 4 (LTX-2.5) then the text
projection (ports encode_prompts of ltx_pipelines/utils/helpers.py and the PromptEncoder of utils/blocks.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import mlx.core as mx

from mlx_ltx_core.component_format import component_name, read_component
from mlx_ltx_core.gemma_version import check_gemma_version
from mlx_ltx_core.utils import free
from mlx_ltx_text.embeddings_processor import EmbeddingsProcessor, EmbeddingsProcessorOutput
from mlx_ltx_text.enhance import generate_enhanced_prompt
from mlx_ltx_text.gemma4_loading import COMPONENT as GEMMA4_COMPONENT
from mlx_ltx_text.gemma_loading import read_gemma_config, resolve_gemma_path
from mlx_ltx_text.loading import COMPONENT as PROJECTION_COMPONENT
from mlx_ltx_text.loading import load_text_projection
from mlx_ltx_text.text_encoder import Gemma4TextEncoder, GemmaTextEncoder


class PromptEncoder:
    """Holds Gemma (until ``free_gemma``) and the text projection.

    ``encode_prompt(prompt)`` keeps Gemma for further prompts; ``encode_prompts([prompt, negative_prompt])`` is the
    pipelines' path: every prompt through Gemma in one batch, the hidden states evaluated, Gemma freed, then the
    projection.
    """

    def __init__(
        self, text_encoder: GemmaTextEncoder | Gemma4TextEncoder | None, embeddings_processor: EmbeddingsProcessor
    ):
        self.text_encoder = text_encoder
        self.embeddings_processor = embeddings_processor

    @classmethod
    def load(
        cls, gemma: str | os.PathLike, text_projection: str | os.PathLike, *, dtype: mx.Dtype | None = None
    ) -> PromptEncoder:
        """The text encoder — a Gemma 3 folder (or Hugging Face repo id), or LTX-2.5's ``text_encoder`` component
        folder (Gemma 4) — and the text_projection component folder; ``dtype`` casts both.

        The Gemma is checked against the one the checkpoint names (``check_gemma_version``) before it loads.
        """
        gemma_path, config = _gemma_config(gemma)
        projection = read_component(text_projection, PROJECTION_COMPONENT)
        check_gemma_version(projection.info, config, str(gemma_path))
        if component_name(gemma_path) == GEMMA4_COMPONENT:
            encoder: GemmaTextEncoder | Gemma4TextEncoder = Gemma4TextEncoder.load(gemma_path, dtype=dtype)
        else:
            encoder = GemmaTextEncoder.load(gemma_path, dtype=dtype)
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
        if enhance_first_prompt and isinstance(text_encoder, Gemma4TextEncoder):
            raise ValueError(
                "enhance_prompt: LTX-2.5's text encoder (Gemma 4 unified) only encodes, as in the reference; "
                "write the detailed prompt yourself"
            )
        if enhance_first_prompt and isinstance(text_encoder, GemmaTextEncoder):
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

    def _gemma(self) -> GemmaTextEncoder | Gemma4TextEncoder:
        if self.text_encoder is None:
            raise ValueError("Gemma was freed after encode_prompts; load a new PromptEncoder to encode more prompts")
        return self.text_encoder


def _gemma_config(gemma: str | os.PathLike) -> tuple[Path, dict]:
    """(local path, Gemma config) of a text_encoder component folder or a Gemma 3 folder / repo id."""
    if component_name(gemma) == GEMMA4_COMPONENT:
        return Path(gemma), read_component(gemma, GEMMA4_COMPONENT).config
    path = resolve_gemma_path(gemma)
    return path, read_gemma_config(path)
