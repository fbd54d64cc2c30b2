"""Speed of the real-size audio models (random weights, float32): audio VAE encoder/decoder and both vocoders.

Prints one row per model (seconds per second of audio, peak memory) and a JSON line.
Run: `LD_PRELOAD=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 uv run python
packages/ltx-audio/benchmarks/audio_speed.py [--seconds 1.0]`.
"""

from __future__ import annotations

import argparse
import json
import time

import mlx.core as mx

from mlx_ltx_audio import AudioDecoder, AudioEncoder, AudioVAEArgs, build_vocoder

DDCONFIG = {"double_z": True, "mel_bins": 64, "z_channels": 8, "resolution": 256, "downsample_time": False,
            "in_channels": 2, "out_ch": 2, "ch": 128, "ch_mult": [1, 2, 4], "num_res_blocks": 2,
            "attn_resolutions": [], "dropout": 0, "mid_block_add_attention": False, "norm_type": "pixel",
            "causality_axis": "height"}  # fmt: skip
RES = {"resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5]] * 3, "stereo": True}
HIFIGAN_19B = {**RES, "upsample_initial_channel": 1024, "resblock": "1", "upsample_rates": [6, 5, 2, 2, 2],
               "upsample_kernel_sizes": [16, 15, 8, 4, 4]}  # fmt: skip
AMP = {**RES, "resblock": "AMP1", "activation": "snakebeta", "use_tanh_at_final": False, "use_bias_at_final": False}
BWE_23 = {
    "vocoder": {**AMP, "upsample_initial_channel": 1536, "upsample_rates": [5, 2, 2, 2, 2, 2],
                "upsample_kernel_sizes": [11, 4, 4, 4, 4, 4]},
    "bwe": {**AMP, "upsample_initial_channel": 512, "upsample_rates": [6, 5, 2, 2, 2],
            "upsample_kernel_sizes": [12, 11, 4, 4, 4], "apply_final_activation": False,
            "input_sampling_rate": 16000, "output_sampling_rate": 48000, "hop_length": 80, "n_fft": 512,
            "win_size": 512, "num_mels": 64},
}  # fmt: skip


def timed(fn, x: mx.array) -> tuple[float, float]:
    mx.eval(fn(x))  # warm-up
    mx.reset_peak_memory()
    t0 = time.perf_counter()
    mx.eval(fn(x))
    return time.perf_counter() - t0, mx.get_peak_memory() / 2**30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    seconds = ap.parse_args().seconds
    frames = round(seconds * 100) + 1  # mel frames at 100 per second
    args = AudioVAEArgs.from_dict({"model": {"params": {"ddconfig": DDCONFIG}}})
    mel = mx.random.normal((1, frames, 64, 2)) - 4
    latent = mx.random.normal((1, (frames + 3) // 4, 16, 8))
    models = {
        "audio encoder": (AudioEncoder(args), mel),
        "audio decoder": (AudioDecoder(args), latent),
        "vocoder LTX-2 (HiFi-GAN, 24 kHz)": (build_vocoder(HIFIGAN_19B), mel),
        "vocoder LTX-2.3 (BigVGAN+BWE, 48 kHz)": (build_vocoder(BWE_23), mel),
    }
    rows = []
    print(f"{'model':40} {'s per s of audio':>17} {'peak GiB':>9}")
    for name, (model, x) in models.items():
        mx.eval(model.parameters())
        dt, peak = timed(model, x)
        rows.append({"model": name, "seconds_per_audio_second": dt / seconds, "peak_gib": peak})
        print(f"{name:40} {dt / seconds:17.2f} {peak:9.2f}")
        del model
    print(json.dumps({"benchmark": "audio_speed", "audio_seconds": seconds, "rows": rows}))


if __name__ == "__main__":
    main()
