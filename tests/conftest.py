"""Workspace fixtures: the tiny model (a Lightricks-format checkpoint converted by ltx-convert, built once per session
into a private cache) and media files written in the test."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def ltx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ltx-cache")


@pytest.fixture(scope="session")
def tiny(ltx_cache: Path) -> tuple[Path, Path]:
    """(converted model folder, Gemma folder) of the tiny random LTX-2.3."""
    from mlx_ltx_cli.tiny import tiny_model

    return tiny_model(ltx_cache)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A PNG, a mono 48 kHz WAV (1 s, 440 Hz), a 17-frame MP4 without sound, and an IC-LoRA (downscale 2)."""
    from PIL import Image

    from mlx_ltx_cli.tiny import write_tiny_lora
    from mlx_ltx_pipelines.media import write_video

    root = tmp_path_factory.mktemp("media")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (100, 150, 3), dtype=np.uint8)).save(root / "image.png")
    t = np.arange(48000) / 48000
    with wave.open(str(root / "tone.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(48000)
        f.writeframes((np.sin(2 * np.pi * 440 * t) * 0.3 * 32767).astype("<i2").tobytes())
    write_video(root / "reference.mp4", [rng.integers(0, 256, (17, 64, 96, 3), dtype=np.uint8)], 24.0)
    write_tiny_lora(root / "ic-lora.safetensors", seed=5, metadata={"reference_downscale_factor": "2"})
    return {
        "image": root / "image.png",
        "audio": root / "tone.wav",
        "video": root / "reference.mp4",
        "ic_lora": root / "ic-lora.safetensors",
    }
