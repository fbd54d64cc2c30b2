#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 mel front-end, audio VAE and vocoders.

Usage: python goldens_audio.py [--out DIR] [--seed N] [--only case1,case2] [--ltx-core-src CHECKOUT]
Writes DIR/audio/<case>.safetensors and manifest.json (``cases: {name: info}``, ``info["file"]``).

Each file holds ``weights.<real checkpoint key>`` (PyTorch layout; float16 where the value is exactly
representable, which every random weight is because they are rounded to float16 before the runs),
``inputs.*`` (float32), ``outputs_f64.*`` (the float64 run: ground truth) and ``intermediates.<module>.in`` /
``.out`` (input and output of selected modules in the float64 run, stored as float32, PyTorch layout). The
float32 reference run is only summarised in the manifest (``f32_vs_f64_max_abs_diff``).
"""

from __future__ import annotations

import copy
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import torch
import torchaudio
from ltx_core.model.audio_vae import (
    AudioDecoder,
    AudioDecoderConfigurator,
    AudioEncoder,
    AudioEncoderConfigurator,
    AudioProcessor,
    VocoderConfigurator,
    VocoderWithBWE,
)
from ltx_core.types import Audio
from safetensors.torch import save_file
from tiny_configs import tiny_config

from _common import S, audio_vae_prefix, fill_special_

# ----------------------------------------------------------------------------
# Constraints of ltx-core 1.0.0 for tiny configs:
#  * PerChannelStatistics(latent_channels=ch) is applied to the patchified latent
#    "b c t f -> b t (c f)", so ch MUST equal z_channels * (mel_bins // 4).
#  * len(ch_mult) must be 3 (LATENT_DOWNSAMPLE_FACTOR = 4 is hard-coded).
#  * Vocoder.conv_pre has in_channels hard-coded to 128 (= 2 stereo x 64 mel): vocoder mels have 64 bins.
# The VAE cases use 16 mel bins (ch = 2 * 16 / 4 = 8) to stay small; the real 64-bin front-end has its own
# case (mel_frontend). z_channels = 2 keeps the channel-major patchify order observable.
# ----------------------------------------------------------------------------

# In tiny_configs.json (goldens.audio_vae): real ddconfig at ch 8, z_channels 2, num_res_blocks 1, mel_bins 16
# (real: ch 128, z_channels 8, ch_mult [1,2,4], num_res_blocks 2, mel_bins 64).
TINY_AUDIO_VAE = tiny_config("goldens", "audio_vae")
TINY_AUDIO_DD = TINY_AUDIO_VAE["audio_vae"]["model"]["params"]["ddconfig"]


# ----------------------------------------------------------------------------
# plumbing: float16-exact weights, float64 run with input/output hooks, compact files
# ----------------------------------------------------------------------------


def round_weights_(model: torch.nn.Module) -> None:
    """Round parameters and the per-channel statistics to float16 precision, so the goldens can store them
    in float16 exactly. Deterministic buffers (Kaiser filters, STFT/mel bases) keep full precision."""
    for p in model.parameters():
        p.copy_(p.half().float())
    for name, buf in model.named_buffers():
        if "per_channel_statistics" in name:
            buf.copy_(buf.half().float())


def record_f64(model: torch.nn.Module, names: list[str], *args: torch.Tensor) -> tuple[dict, dict]:
    """Inputs and outputs of the named modules in one float64 call (float32 copies). An input equal to an
    output recorded before is not stored again: the second dict maps such names to the module that made it."""
    m64 = copy.deepcopy(model).double()
    mods = dict(m64.named_modules())
    store: dict[str, torch.Tensor] = {}
    same_as: dict[str, str] = {}
    handles = []
    for n in names:

        def hook(_m, inp, out, n=n):
            x = inp[0].detach().float()
            src = next(
                (k[:-4] for k, v in store.items() if k.endswith(".out") and v.shape == x.shape and torch.equal(v, x)),
                None,
            )
            if src is None:
                store[f"{n}.in"] = x.clone()
            else:
                same_as[n] = src
            store[f"{n}.out"] = out.detach().float().clone()

        handles.append(mods[n].register_forward_hook(hook))
    m64(*(a.double() for a in args))
    for h in handles:
        h.remove()
    return store, same_as


def run_f32_f64(model: torch.nn.Module | None, fn) -> tuple[dict, dict]:
    """fn(model, dtype) -> outputs, in float32 and in float64 (on a double copy)."""
    out32 = fn(model.float() if model is not None else None, torch.float32)
    out64 = fn(copy.deepcopy(model).double() if model is not None else None, torch.float64)
    return out32, out64


def compact(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().float().contiguous()
    return t.half() if torch.equal(t.half().float(), t) else t


def save(
    out_dir: str, case: str, weights: dict, inputs: dict, out32: dict, out64: dict, recorded: tuple, info: dict
) -> None:
    inter, same_as = recorded
    tensors = {f"weights.{k}": compact(v) for k, v in weights.items()}
    tensors.update({f"inputs.{k}": v.float().contiguous() for k, v in inputs.items()})
    tensors.update(
        {f"outputs_f64.{k}": v.float().contiguous() for k, v in out64.items()}
    )  # the float64 run, stored rounded to float32 (6e-8 relative: far below every tolerance, half the bytes)
    tensors.update({f"intermediates.{k}": v.float().contiguous() for k, v in inter.items()})
    save_file(tensors, os.path.join(out_dir, f"{case}.safetensors"))
    diffs = {k: float((out32[k].double() - out64[k]).abs().max()) for k in out64}
    info = dict(info)
    info.update(
        inputs={k: list(v.shape) for k, v in inputs.items()},
        outputs={k: list(v.shape) for k, v in out64.items()},
        f32_vs_f64_max_abs_diff=diffs,
        output_abs_max={k: float(v.abs().max()) for k, v in out64.items()},
        intermediates=sorted({k.rsplit(".", 1)[0] for k in inter}),
        intermediate_input_is_output_of=same_as,
        n_weights=len(weights),
        file=f"{case}.safetensors",
    )
    _common.MANIFEST["cases"][case] = info
    print(f"[{case}] in={info['inputs']} out={info['outputs']} f32-f64 maxdiff={diffs}")


def test_waveform(g: torch.Generator, batch: int, channels: int, n: int) -> torch.Tensor:
    """Noise plus a chirp, with a silent stretch (mel below the 1e-5 clamp) and a quiet one."""
    t = torch.arange(n, dtype=torch.float64) / n
    chirp = 0.4 * torch.sin(2 * math.pi * (20 + 400 * t) * t * 8)
    noise = (torch.rand((batch, channels, n), generator=g, dtype=torch.float64) * 2 - 1) * 0.3
    env = torch.ones(n, dtype=torch.float64)
    env[n // 2 : n // 2 + n // 6] = 0.0
    env[n // 2 + n // 6 : n // 2 + n // 3] = 1e-3
    return ((chirp + noise) * env).float()


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------

MEL_RATES = {"16k": 16000, "44k": 44100, "8k": 8000}
MEL_SECONDS = {"16k": 0.25, "44k": 0.1, "8k": 0.15}


def case_mel_frontend(out_dir: str, seed: int) -> None:
    """The real front-end: AudioProcessor(16000, 64 mels, hop 160, n_fft 1024) on 16 / 44.1 / 8 kHz input."""
    g = torch.Generator().manual_seed(S(seed))
    waves = {k: test_waveform(g, 1, 2, round(MEL_RATES[k] * MEL_SECONDS[k])) for k in MEL_RATES}
    proc = AudioProcessor(target_sample_rate=16000, mel_bins=64, mel_hop_length=160, n_fft=1024)

    def fn(_m, dt):
        p = copy.deepcopy(proc).to(dt)
        return {
            f"mel_{k}": p.waveform_to_mel(Audio(waveform=w.to(dt), sampling_rate=MEL_RATES[k]))
            for k, w in waves.items()
        }

    o32, o64 = run_f32_f64(None, fn)
    inter = {
        f"resampled_{k}.out": torchaudio.functional.resample(w.double(), MEL_RATES[k], 16000).float()
        for k, w in waves.items()
        if MEL_RATES[k] != 16000
    }
    save(
        out_dir,
        "mel_frontend",
        {},
        {f"waveform_{k}": w for k, w in waves.items()},
        o32,
        o64,
        (inter, {}),
        {
            "constructor": "AudioProcessor(target_sample_rate=16000, mel_bins=64, mel_hop_length=160, n_fft=1024)",
            "sample_rates": {f"waveform_{k}": r for k, r in MEL_RATES.items()},
            "note": "mel_X = waveform_to_mel(Audio(waveform_X, rate)) run in float64 (module .double()), "
            "(B, C, T, n_mels); intermediates resampled_X.out = torchaudio.functional.resample in float64",
        },
    )


def case_audio_encoder(out_dir: str, seed: int) -> None:
    cfg = copy.deepcopy(TINY_AUDIO_VAE)
    torch.manual_seed(S(seed))
    enc: AudioEncoder = AudioEncoderConfigurator.from_config(cfg).eval()
    fill_special_(enc, seed + 1)
    round_weights_(enc)
    g = torch.Generator().manual_seed(S(seed) + 2)
    wav16 = test_waveform(g, 2, 2, 4000)  # 0.25 s @ 16 kHz, batch 2
    wav44 = test_waveform(g, 1, 2, 4410)  # 0.1 s @ 44.1 kHz
    proc = AudioProcessor(
        target_sample_rate=enc.sample_rate, mel_bins=enc.mel_bins, mel_hop_length=enc.mel_hop_length, n_fft=enc.n_fft
    )

    def fn(m, dt):
        p = copy.deepcopy(proc).to(dt)
        mel16 = p.waveform_to_mel(Audio(waveform=wav16.to(dt), sampling_rate=16000))
        mel44 = p.waveform_to_mel(Audio(waveform=wav44.to(dt), sampling_rate=44100))
        return {"mel_16k": mel16, "latent_16k": m(mel16), "mel_44k": mel44, "latent_44k": m(mel44)}

    names = ["conv_in", "down.0.block.0", "down.0.downsample", "down.1.block.0", "down.1.downsample"]
    names += ["down.2.block.0", "mid.block_1", "mid.block_2", "conv_out"]
    o32, o64 = run_f32_f64(enc, fn)
    inter = record_f64(enc, names, o64["mel_16k"][:1])
    save(
        out_dir,
        "audio_encoder",
        state_dict_with_prefix(enc, audio_vae_prefix("encoder")),
        {"waveform_16k": wav16, "waveform_44k": wav44},
        o32,
        o64,
        inter,
        {
            "constructor": "AudioEncoderConfigurator.from_config(config); AudioProcessor(target_sample_rate=16000, "
            "mel_bins=16, mel_hop_length=160, n_fft=1024); mel_X = waveform_to_mel, latent_X = encoder(mel_X)",
            "config": cfg,
            "sample_rates": {"waveform_16k": 16000, "waveform_44k": 44100},
            "note": "intermediates are from encoder(mel_16k[:1])",
        },
    )


def case_audio_decoder(out_dir: str, seed: int) -> None:
    cfg = copy.deepcopy(TINY_AUDIO_VAE)
    torch.manual_seed(S(seed))
    dec: AudioDecoder = AudioDecoderConfigurator.from_config(cfg).eval()
    fill_special_(dec, seed + 1)
    round_weights_(dec)
    g = torch.Generator().manual_seed(S(seed) + 2)
    latent = torch.randn((2, TINY_AUDIO_DD["z_channels"], 7, TINY_AUDIO_DD["mel_bins"] // 4), generator=g)

    def fn(m, dt):
        return {"mel": m(latent.to(dt))}

    names = ["conv_in", "mid.block_1", "mid.block_2", "up.2.block.0", "up.2.block.1", "up.2.upsample"]
    names += ["up.1.block.0", "up.1.block.1", "up.1.upsample", "up.0.block.0", "up.0.block.1", "conv_out"]
    o32, o64 = run_f32_f64(dec, fn)
    inter = record_f64(dec, names, latent[:1])
    save(
        out_dir,
        "audio_decoder",
        state_dict_with_prefix(dec, audio_vae_prefix("decoder")),
        {"latent": latent},
        o32,
        o64,
        inter,
        {
            "constructor": "AudioDecoderConfigurator.from_config(config)",
            "config": cfg,
            "note": "target frames = 4*T - 3 (causal); output cropped/padded to (B, out_ch, 4T-3, mel_bins); "
            "intermediates are from decoder(latent[:1])",
        },
    )


def tiny_hifigan_cfg() -> dict:  # real 19B: rates [6,5,2,2,2], kernels [16,15,8,4,4], ch 1024, rk [3,7,11]
    return tiny_config("goldens", "vocoder_hifigan")


def tiny_bwe_cfg() -> dict:  # real 2.3: vocoder 1536ch rates [5,2,2,2,2,2]; bwe 512ch [6,5,2,2,2], 16k -> 48k
    # BWE constraint: prod(bwe upsample_rates) == hop_length * (output_sr // input_sr)  (here 24 = 8 * 3)
    return tiny_config("goldens", "vocoder_bwe")


CONV_POST_SCALE = (1.5, 1.0)  # vocoder, bwe_generator: ~2 % and ~8 % of the samples clamped


def fill_mel_stft_(voc: VocoderWithBWE, n_fft: int, sr: int, n_mels: int) -> None:
    """MelSTFT buffers come from the checkpoint in the real model. Here: a causal periodic-Hann DFT basis and a
    slaney mel filterbank."""
    n_freqs = n_fft // 2 + 1
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(n_freqs, dtype=torch.float64)[:, None]
    win = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    ang = 2 * math.pi * k * n[None] / n_fft
    fwd = torch.cat([torch.cos(ang) * win, -torch.sin(ang) * win], 0)[:, None, :]
    inv = torch.cat([torch.cos(ang), -torch.sin(ang)], 0)[:, None, :]
    voc.mel_stft.stft_fn.forward_basis.copy_(fwd.float())
    voc.mel_stft.stft_fn.inverse_basis.copy_(inv.float())
    fb = torchaudio.functional.melscale_fbanks(n_freqs, 0.0, sr / 2, n_mels, sr, norm="slaney", mel_scale="slaney")
    voc.mel_stft.mel_basis.copy_(fb.T.float())


def case_vocoder(out_dir: str, case: str, cfg: dict, seed: int, frames: int) -> None:
    torch.manual_seed(S(seed))
    voc = VocoderConfigurator.from_config(cfg).eval()
    fill_special_(voc, seed + 1)
    bwe = isinstance(voc, VocoderWithBWE)
    if bwe:
        b = cfg["vocoder"]["bwe"]
        fill_mel_stft_(voc, b["n_fft"], b["input_sampling_rate"], b["num_mels"])
        # keep the random generators mostly inside the clamps (-1, 1), a few percent outside to exercise them
        voc.vocoder.conv_post.weight.mul_(CONV_POST_SCALE[0])
        voc.bwe_generator.conv_post.weight.mul_(CONV_POST_SCALE[1])
    round_weights_(voc)
    g = torch.Generator().manual_seed(S(seed) + 2)
    mel = torch.randn((2, 2, frames, 64), generator=g) * 2 - 4  # log-mel-like values, batch 2

    def fn(m, dt):
        return {"waveform": m(mel.to(dt))}

    if bwe:
        names = ["vocoder", "vocoder.ups.0", "vocoder.resblocks.0", "vocoder.resblocks.3", "vocoder.act_post"]
        names += ["bwe_generator", "bwe_generator.resblocks.1", "resampler"]
    else:
        names = ["conv_pre", "ups.0", "resblocks.0", "resblocks.1", "ups.1", "resblocks.3", "act_post", "conv_post"]
    o32, o64 = run_f32_f64(voc, fn)
    inter = record_f64(voc, names, mel[:1])
    info = {
        "constructor": "VocoderConfigurator.from_config(config)",
        "config": cfg,
        "output_sampling_rate": voc.output_sampling_rate,
        "note_intermediates": "from vocoder(mel[:1])",
    }
    if bwe:
        info["note"] = (
            "mel_stft buffers (forward_basis, inverse_basis, mel_basis) are test fills: causal periodic-Hann "
            "DFT basis + slaney mel fbank; real ones come from the checkpoint. resampler.filter is "
            "non-persistent (computed Hann-windowed sinc, ratio=out//in), listed as resampler_filter"
        )
        info["resampler_filter"] = voc.resampler.filter.flatten().tolist()
    weights = state_dict_with_prefix(voc, lambda k: "vocoder." + k)
    save(out_dir, case, weights, {"mel": mel}, o32, o64, inter, info)


def state_dict_with_prefix(model: torch.nn.Module, prefix_fn) -> dict[str, torch.Tensor]:
    return {prefix_fn(k): v.detach().float().contiguous().clone() for k, v in model.state_dict().items()}


CASES = ["mel_frontend", "audio_encoder", "audio_decoder", "vocoder_hifigan", "vocoder_bwe"]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "audio")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    def want(c: str) -> bool:
        return not only or c in only

    if want("mel_frontend"):
        case_mel_frontend(out, 500)
    if want("audio_encoder"):
        case_audio_encoder(out, 600)
    if want("audio_decoder"):
        case_audio_decoder(out, 700)
    if want("vocoder_hifigan"):
        case_vocoder(out, "vocoder_hifigan", tiny_hifigan_cfg(), 800, frames=9)
    if want("vocoder_bwe"):
        case_vocoder(out, "vocoder_bwe", tiny_bwe_cfg(), 900, frames=9)
    _common.write_manifest(out, "audio", bool(only))


if __name__ == "__main__":
    main()
