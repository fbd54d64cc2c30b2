#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 mel front-end, audio VAE and vocoders.

Usage: python goldens_audio.py [--out DIR] [--seed N] [--only case1,case2] [--ltx-core-src CHECKOUT]
Writes DIR/audio/<case>.safetensors and manifest.json (see _common.py for the layout).
"""

from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from ltx_core.model.audio_vae import (
    AudioDecoder,
    AudioDecoderConfigurator,
    AudioEncoder,
    AudioEncoderConfigurator,
    AudioProcessor,
    Vocoder,  # noqa: F401
    VocoderConfigurator,
    VocoderWithBWE,
)
from ltx_core.types import Audio

import _common
from _common import (
    S,
    audio_vae_prefix,
    fill_special_,
    run_both,
    save_case,
    state_dict_with_prefix,
)

# ----------------------------------------------------------------------------
# audio VAE + vocoder
# ----------------------------------------------------------------------------
# Constraints of ltx-core 1.0.0 for tiny configs:
#  * PerChannelStatistics(latent_channels=ch) is applied to the patchified latent
#    "b c t f -> b t (c f)", so ch MUST equal z_channels * (mel_bins // 4).
#  * len(ch_mult) must be 3 (LATENT_DOWNSAMPLE_FACTOR = 4 is hard-coded).
#  * Vocoder.conv_pre has in_channels hard-coded to 128 (= 2 stereo x 64 mel) and
#    conv_post out_channels=2, so mel_bins must be 64 to chain decoder -> vocoder.

TINY_AUDIO_DD = {  # real: ch 128, z_channels 8, ch_mult [1,2,4], num_res_blocks 2, mel_bins 64
    "double_z": True,
    "mel_bins": 64,
    "z_channels": 2,
    "resolution": 256,
    "downsample_time": False,
    "in_channels": 2,
    "out_ch": 2,
    "ch": 32,
    "ch_mult": [1, 2, 4],
    "num_res_blocks": 1,
    "attn_resolutions": [],
    "dropout": 0.0,
    "mid_block_add_attention": False,
    "norm_type": "pixel",
    "causality_axis": "height",
}


def audio_vae_config(dd: dict) -> dict:
    return {
        "audio_vae": {
            "model": {"params": {"ddconfig": dd, "sampling_rate": 16000}},
            "preprocessing": {
                "audio": {
                    "sampling_rate": 16000,
                    "max_wav_value": 32768.0,
                    "duration": 5.12,
                    "stereo": True,
                    "causal_padding": 3,
                },
                "stft": {"filter_length": 1024, "hop_length": 160, "win_length": 1024, "causal": True},
                "mel": {"n_mel_channels": 64, "mel_fmin": 0, "mel_fmax": 8000},
            },
        }
    }


def case_audio_encoder(out_dir: str, seed: int) -> None:
    cfg = audio_vae_config(TINY_AUDIO_DD)
    torch.manual_seed(S(seed))
    enc: AudioEncoder = AudioEncoderConfigurator.from_config(cfg).eval()
    fill_special_(enc, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    wav = torch.rand((1, 2, 16000 * 2 // 5), generator=g) * 1.2 - 0.6  # 0.4 s stereo @16 kHz
    proc = AudioProcessor(
        target_sample_rate=enc.sample_rate, mel_bins=enc.mel_bins, mel_hop_length=enc.mel_hop_length, n_fft=enc.n_fft
    )
    mel = proc.waveform_to_mel(Audio(waveform=wav, sampling_rate=16000))  # float32 only (torchaudio)
    # also a 44.1 kHz input through torchaudio.functional.resample (windowed sinc, defaults)
    wav44 = torch.rand((1, 2, 4410), generator=g) * 1.2 - 0.6
    mel44 = proc.waveform_to_mel(Audio(waveform=wav44, sampling_rate=44100))

    def fn(m, dt):
        return {"latent": m(mel.to(dt)), "latent_from_44k": m(mel44.to(dt))}

    names = [
        "conv_in",
        "down.0.block.0",
        "down.0.downsample",
        "down.1.block.0",
        "down.1.downsample",
        "down.2.block.0",
        "mid.block_1",
        "mid.block_2",
        "norm_out",
        "conv_out",
    ]
    o32, o64, inter = run_both(enc, fn, names)
    o32["mel"] = mel
    o64["mel"] = mel.double()
    o32["mel_from_44k"] = mel44
    o64["mel_from_44k"] = mel44.double()
    save_case(
        out_dir,
        "audio_encoder",
        state_dict_with_prefix(enc, audio_vae_prefix("encoder")),
        {"waveform_16k": wav, "waveform_44k": wav44},
        o32,
        o64,
        inter,
        {
            "constructor": "AudioEncoderConfigurator.from_config(config); AudioProcessor(target_sample_rate=16000, "
            "mel_bins=64, mel_hop_length=160, n_fft=1024)",
            "config": cfg,
            "note": "mel = log(clamp(MelSpectrogram(power=1, slaney, center reflect, hann 1024, hop 160, "
            "fmax=sr/2), 1e-5)) permuted to (B, C, T, n_mels); 'mel' outputs are float32 torchaudio "
            "results (outputs_f64.mel is just the upcast)",
        },
    )


def case_audio_decoder(out_dir: str, seed: int) -> None:
    cfg = audio_vae_config(TINY_AUDIO_DD)
    torch.manual_seed(S(seed))
    dec: AudioDecoder = AudioDecoderConfigurator.from_config(cfg).eval()
    fill_special_(dec, seed + 1)
    g = torch.Generator().manual_seed(S(seed) + 2)
    latent = torch.randn((1, TINY_AUDIO_DD["z_channels"], 7, TINY_AUDIO_DD["mel_bins"] // 4), generator=g)

    def fn(m, dt):
        return {"mel": m(latent.to(dt))}

    names = [
        "conv_in",
        "mid.block_1",
        "mid.block_2",
        "up.2.block.0",
        "up.2.block.1",
        "up.2.upsample",
        "up.1.block.0",
        "up.1.block.1",
        "up.1.upsample",
        "up.0.block.0",
        "up.0.block.1",
        "norm_out",
        "conv_out",
    ]
    o32, o64, inter = run_both(dec, fn, names)
    save_case(
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
            "note": "target frames = 4*T - 3 (causal); output cropped/padded to (B, out_ch, 4T-3, mel_bins)",
        },
    )


def tiny_hifigan_cfg() -> dict:  # real 19B: rates [6,5,2,2,2], kernels [16,15,8,4,4], ch 1024, rk [3,7,11]
    return {
        "vocoder": {
            "resblock": "1",
            "stereo": True,
            "upsample_rates": [3, 2],
            "upsample_kernel_sizes": [7, 4],
            "upsample_initial_channel": 32,
            "resblock_kernel_sizes": [3, 5],
            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
        }
    }


def tiny_bwe_cfg() -> dict:  # real 2.3: see report (vocoder 1536ch rates [5,2,2,2,2,2]; bwe 512ch [6,5,2,2,2])
    return {
        "vocoder": {
            "vocoder": {
                "upsample_initial_channel": 32,
                "resblock": "AMP1",
                "upsample_rates": [5, 2],
                "resblock_kernel_sizes": [3, 5],
                "upsample_kernel_sizes": [11, 4],
                "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
                "stereo": True,
                "use_tanh_at_final": False,
                "activation": "snakebeta",
                "use_bias_at_final": False,
            },
            # BWE constraint: prod(bwe upsample_rates) == hop_length * (output_sr // input_sr)  (here 24 = 8 * 3)
            "bwe": {
                "upsample_initial_channel": 32,
                "resblock": "AMP1",
                "upsample_rates": [6, 4],
                "resblock_kernel_sizes": [3],
                "upsample_kernel_sizes": [12, 8],
                "resblock_dilation_sizes": [[1, 3, 5]],
                "stereo": True,
                "use_tanh_at_final": False,
                "activation": "snakebeta",
                "use_bias_at_final": False,
                "apply_final_activation": False,
                "input_sampling_rate": 8000,
                "output_sampling_rate": 24000,
                "hop_length": 8,
                "n_fft": 64,
                "win_size": 64,
                "num_mels": 64,
            },
        }
    }


def fill_mel_stft_(voc: VocoderWithBWE, n_fft: int, sr: int, n_mels: int) -> None:
    """MelSTFT buffers are loaded from the checkpoint in the real model (bf16).  For the
    test we fill them with a standard DFT x periodic-Hann basis and a slaney mel filterbank."""
    import torchaudio

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
    if isinstance(voc, VocoderWithBWE):
        b = cfg["vocoder"]["bwe"]
        fill_mel_stft_(voc, b["n_fft"], b["input_sampling_rate"], b["num_mels"])
        # keep the random generators mostly inside the final clamp(-1, 1) so the test stays sensitive
        voc.vocoder.conv_post.weight.mul_(0.3)
        voc.bwe_generator.conv_post.weight.mul_(0.3)
    g = torch.Generator().manual_seed(S(seed) + 2)
    mel = torch.randn((1, 2, frames, 64), generator=g) * 2 - 4  # log-mel-like values

    def fn(m, dt):
        return {"waveform": m(mel.to(dt))}

    if isinstance(voc, VocoderWithBWE):
        names = [
            "vocoder",
            "vocoder.conv_pre",
            "vocoder.ups.0",
            "vocoder.ups.1",
            "vocoder.act_post",
            "vocoder.conv_post",
            "bwe_generator",
            "bwe_generator.conv_pre",
            "bwe_generator.conv_post",
            "resampler",
        ]
    else:
        names = [
            "conv_pre",
            "ups.0",
            "resblocks.0",
            "resblocks.1",
            "ups.1",
            "resblocks.2",
            "resblocks.3",
            "act_post",
            "conv_post",
        ]
    o32, o64, inter = run_both(voc, fn, names)
    info = {
        "constructor": "VocoderConfigurator.from_config(config)",
        "config": cfg,
        "output_sampling_rate": voc.output_sampling_rate,
    }
    if isinstance(voc, VocoderWithBWE):
        info["note"] = (
            "mel_stft buffers (forward_basis, inverse_basis, mel_basis) are test fills: periodic-Hann "
            "DFT basis + slaney mel fbank; real ones come from the checkpoint. resampler.filter is "
            "non-persistent (computed, hann-windowed sinc, ratio=out//in)"
        )
        info["resampler_filter"] = voc.resampler.filter.flatten().tolist()
    save_case(out_dir, case, state_dict_with_prefix(voc, lambda k: "vocoder." + k), {"mel": mel}, o32, o64, inter, info)


CASES = ["audio_encoder", "audio_decoder", "vocoder_hifigan", "vocoder_bwe"]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "audio")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    def want(c: str) -> bool:
        return not only or c in only

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
