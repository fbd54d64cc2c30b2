"""Fixtures over the text goldens (``$LTX_GOLDENS/text``): the connector cases and the tiny Gemma folder.

Tests taking a ``connector_case`` argument run once per ``text_connector_*`` case of the manifest.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_convert.layouts.text import text_projection_key
from mlx_ltx_text.embeddings_processor import EmbeddingsProcessor, EmbeddingsProcessorArgs
from mlx_ltx_text.text_encoder import GemmaTextEncoder

from ltx_testing import goldens_root, group, load, manifest

FAMILY = "text"


class TextGoldens:
    """Accessors for one goldens folder's text family."""

    @staticmethod
    def info(case: str) -> dict[str, Any]:
        return manifest(FAMILY)["cases"][case]

    def tensors(self, case: str, prefix: str) -> dict[str, np.ndarray]:
        return group(load(FAMILY, self.info(case)["file"]), prefix)

    def weights(self, case: str) -> dict[str, mx.array]:
        """The case's checkpoint-keyed bf16 weights → MLX keys in float32 (ltx-convert's mapping, then a cast)."""
        raw = mx.load(str(goldens_root() / FAMILY / self.info(case)["weights"]))
        return {text_projection_key(k): v.astype(mx.float32) for k, v in raw.items()}

    def args(self, case: str) -> EmbeddingsProcessorArgs:
        info = self.info(case)
        gemma = info["gemma"]
        return EmbeddingsProcessorArgs.from_dict(
            info["transformer_config"], gemma["hidden_size"], gemma["num_hidden_states"] - 1
        )

    def build(self, case: str) -> EmbeddingsProcessor:
        model = EmbeddingsProcessor(self.args(case))
        model.load_weights(list(self.weights(case).items()), strict=True)
        return model

    def inputs(self, case: str, fill: float | None = None) -> tuple[mx.array, mx.array]:
        """(B, T, D, L) hidden states: the stored valid rows, the left padding filled with ``fill`` (or noise)."""
        inputs = self.tensors(case, "inputs")
        valid, mask = inputs["hidden_states_valid_BTDL"], inputs["attention_mask"]
        shape = (*mask.shape, *valid.shape[2:])
        if fill is None:
            hidden = np.random.default_rng(0).normal(scale=50.0, size=shape).astype(np.float32)
        else:
            hidden = np.full(shape, fill, dtype=np.float32)
        hidden[:, mask.shape[1] - valid.shape[1] :] = valid
        return mx.array(hidden), mx.array(mask.astype(np.int32))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "connector_case" in metafunc.fixturenames:
        cases = sorted(k for k in manifest(FAMILY)["cases"] if k.startswith("text_connector_"))
        metafunc.parametrize("connector_case", cases)


@pytest.fixture(scope="session")
def goldens() -> TextGoldens:
    return TextGoldens()


@pytest.fixture(scope="session")
def gemma_case() -> dict[str, Any]:
    return manifest(FAMILY)["cases"]["gemma_hidden_states"]


@pytest.fixture(scope="session")
def tiny_gemma_dir(gemma_case: dict[str, Any]) -> Path:
    return goldens_root() / FAMILY / gemma_case["folder"]


@pytest.fixture(scope="session")
def tiny_gemma(tiny_gemma_dir: Path, gemma_case: dict[str, Any]) -> GemmaTextEncoder:
    """The tiny Gemma in float32, tokenizing to the golden batch's max_length."""
    return GemmaTextEncoder.load(tiny_gemma_dir, dtype=mx.float32, max_length=gemma_case["max_length"])


@pytest.fixture
def gemma_copy(tmp_path: Path, tiny_gemma_dir: Path) -> Path:
    """A writable copy of the tiny Gemma folder, to break in a test."""
    return Path(shutil.copytree(tiny_gemma_dir, tmp_path / "gemma"))
