"""How far other resamplers are from the torchaudio-equivalent one the mel front-end uses (and the reference uses).

Prints max|Δ|/max|ref| of the 16 kHz waveform (whole, and without 0.1 s at each end) and of the 64-bin log-mel
for 44.1 / 48 / 22.05 / 8 kHz inputs (2 s of a chirp, alone and with white noise).
Run: `uv run python packages/ltx-audio/benchmarks/resampler_compare.py`.
"""

from __future__ import annotations

import json
import time

import librosa
import numpy as np
import soxr

from mlx_ltx_audio import AudioProcessor
from mlx_ltx_audio.resample import resample


def signal(rate: int, noise: bool, seconds: float = 2.0) -> np.ndarray:
    """A 50 Hz -> 7 kHz (or 0.45·rate) stereo chirp, optionally plus white noise (energy up to Nyquist)."""
    t = np.arange(round(rate * seconds)) / rate
    top = min(7000, 0.45 * rate)
    chirp = 0.4 * np.sin(2 * np.pi * (50 * t + (top - 50) / (2 * seconds) * t**2)) * np.ones((2, 1))
    if noise:
        chirp = chirp + np.random.default_rng(rate).uniform(-0.2, 0.2, (2, t.size))
    return chirp.astype(np.float32)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.shape[-1], b.shape[-1])
    return float(np.abs(a[..., :n] - b[..., :n]).max() / np.abs(b[..., :n]).max())


def _row(rate, noise, name, y, ref, mel, mel_ref, ms) -> dict:
    inner = slice(1600, -1600)  # 0.1 s from each end: the filters' edge handling differs
    return {
        "rate": rate,
        "noise": noise,
        "resampler": name,
        "wave": rel(y, ref),
        "wave_interior": rel(y[:, inner], ref[:, inner]),
        "mel": rel(mel, mel_ref),
        "ms": round(ms, 1),
    }


def _librosa(x: np.ndarray, rate: int, kind: str) -> np.ndarray:
    return librosa.resample(x.astype(np.float64), orig_sr=rate, target_sr=16000, res_type=kind)


def main() -> None:
    proc = AudioProcessor()
    others = {
        "soxr VHQ": lambda x, r: soxr.resample(x.T.astype(np.float64), r, 16000, quality="VHQ").T,
        "soxr HQ": lambda x, r: soxr.resample(x.T.astype(np.float64), r, 16000, quality="HQ").T,
        "librosa polyphase (scipy)": lambda x, r: _librosa(x, r, "polyphase"),
        "librosa fft (scipy)": lambda x, r: _librosa(x, r, "fft"),
    }
    rows = []
    for rate, noise in [(r, n) for n in (False, True) for r in (44100, 48000, 22050, 8000)]:
        x = signal(rate, noise)
        t0 = time.perf_counter()
        ref = resample(x, rate, 16000)
        ms = (time.perf_counter() - t0) * 1e3
        mel_ref = np.array(proc.waveform_to_mel(ref, 16000))
        rows.append(_row(rate, noise, "ours (torchaudio sinc/Hann)", ref, ref, mel_ref, mel_ref, ms))
        for name, fn in others.items():
            t0 = time.perf_counter()
            y = fn(x, rate)
            ms = (time.perf_counter() - t0) * 1e3
            y = np.pad(y, [(0, 0), (0, max(0, ref.shape[-1] - y.shape[-1]))])[:, : ref.shape[-1]]
            mel = np.array(proc.waveform_to_mel(y, 16000))
            rows.append(_row(rate, noise, name, y, ref, mel, mel_ref, ms))
    print(f"{'input':>7} {'noise':>5} {'resampler':28} {'wave':>9} {'interior':>9} {'log-mel':>9} {'ms':>7}")
    for r in rows:
        cells = f"{r['wave']:9.2e} {r['wave_interior']:9.2e} {r['mel']:9.2e} {r['ms']:7.1f}"
        print(f"{r['rate']:>7} {r['noise']!s:>5} {r['resampler']:28} {cells}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
