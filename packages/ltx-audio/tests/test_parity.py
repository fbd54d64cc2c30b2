"""Parity with the float64 PyTorch reference (ltx-core 1.0.0), data-driven from the goldens manifest.

Every case and every recorded module runs in float32 and must be within 1e-4·max|ref| of the float64 run.
"""

from __future__ import annotations

import functools

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_audio import AudioProcessor
from mlx_ltx_audio.resample import resample

from ltx_testing import assert_parity, group, manifest

REL = 1e-4
CASES = sorted(manifest("audio")["cases"])
MODEL_CASES = [c for c in CASES if c != "mel_frontend"]


def _module(model, path: str):
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model


def _inputs(case: str) -> list[str]:
    """The waveform inputs of a case (``waveform_<name>``), with their sample rates in the manifest."""
    return sorted(manifest("audio")["cases"][case]["sample_rates"]) if case in CASES else []


@pytest.mark.parametrize("key", _inputs("mel_frontend"))
def test_mel_frontend(goldens, key: str) -> None:
    info, tensors = goldens.case("mel_frontend")
    name, wave, rate = key.removeprefix("waveform_"), group(tensors, "inputs")[key], info["sample_rates"][key]
    mel = AudioProcessor(16000, 64, 160, 1024).waveform_to_mel(wave, rate)
    assert mel.dtype == mx.float32
    ref = group(tensors, "outputs_f64")[f"mel_{name}"]
    assert_parity(np.array(mel), goldens.channels_last(ref), REL, f"mel_{name}")
    if rate != 16000:
        resampled = group(tensors, "intermediates")[f"resampled_{name}.out"]
        assert_parity(resample(wave, rate, 16000), resampled, REL, f"resample {rate}")


@pytest.mark.parametrize("key", _inputs("audio_encoder"))
def test_audio_encoder(goldens, key: str) -> None:
    info, tensors = goldens.case("audio_encoder")
    encoder = goldens.model("audio_encoder")
    a = encoder.args
    name, wave = key.removeprefix("waveform_"), group(tensors, "inputs")[key]
    mel = AudioProcessor(a.sample_rate, a.mel_bins, a.mel_hop_length, a.n_fft).waveform_to_mel(
        wave, info["sample_rates"][key]
    )
    ref = group(tensors, "outputs_f64")
    assert_parity(np.array(mel), goldens.channels_last(ref[f"mel_{name}"]), REL, f"mel_{name}")
    latent = encoder(mel)
    assert_parity(np.array(latent), goldens.channels_last(ref[f"latent_{name}"]), REL, f"latent_{name}")


@pytest.mark.parametrize("case", [c for c in MODEL_CASES if c != "audio_encoder"])
def test_model_output(goldens, case: str) -> None:
    _, tensors = goldens.case(case)
    (x,) = group(tensors, "inputs").values()
    (ref,) = group(tensors, "outputs_f64").values()
    out = goldens.model(case)(mx.array(goldens.channels_last(x)))
    assert out.dtype == mx.float32
    assert_parity(np.array(out), goldens.channels_last(ref), REL, case)


def _module_cases() -> list[tuple[str, str]]:
    return [(c, m) for c in MODEL_CASES for m in manifest("audio")["cases"][c]["intermediates"]]


@functools.cache
def _cached_model(goldens, case: str):
    return goldens.model(case)


@pytest.mark.parametrize(("case", "module"), _module_cases())
def test_module(goldens, case: str, module: str) -> None:
    """Each recorded module on its recorded float64 input: localises a mismatch."""
    info, tensors = goldens.case(case)
    inter = group(tensors, "intermediates")
    source = info["intermediate_input_is_output_of"].get(module)
    x = inter[f"{source}.out"] if source else inter[f"{module}.in"]
    out = _module(_cached_model(goldens, case), module)(mx.array(goldens.channels_last(x)))
    assert_parity(np.array(out), goldens.channels_last(inter[f"{module}.out"]), REL, f"{case}: {module}")
