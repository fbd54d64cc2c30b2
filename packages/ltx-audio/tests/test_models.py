"""Tiny models: shapes, dtypes, config validation, the GEMM convolutions, and the public encode/decode entry points."""

from __future__ import annotations

import copy
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
import soundfile as sf

from mlx_ltx_audio import (
    Audio,
    AudioDecoder,
    AudioEncoder,
    AudioProcessor,
    AudioVAEArgs,
    VocoderArgs,
    VocoderWithBWEArgs,
    build_vocoder,
    decode_audio,
    encode_audio,
    encode_waveform,
    patchify,
    unpatchify,
)
from mlx_ltx_audio.bigvgan import downsample_fir, upsample_fir
from mlx_ltx_audio.conv1d import Conv1d, ConvTranspose1d
from mlx_ltx_core.tiny_configs import tiny_config

DDCONFIG = tiny_config("model", "audio_vae")["model"]["params"]["ddconfig"]  # real, at tiny width: ch = z·mel/4
HIFIGAN = tiny_config("tests", "vocoder_hifigan")
BWE = tiny_config("tests", "vocoder_bwe")


def vae_args(**dd: object) -> AudioVAEArgs:
    return AudioVAEArgs.from_dict({"model": {"params": {"ddconfig": {**DDCONFIG, **dd}, "sampling_rate": 16000}}})


def test_conv1d_matches_mlx() -> None:
    conv = Conv1d(6, 5, 7, padding=9, dilation=3)
    conv.bias = mx.random.normal((5,))
    x = mx.random.normal((2, 40, 6))
    ref = mx.conv1d(x, conv.weight, padding=9, dilation=3) + conv.bias
    assert mx.abs(conv(x) - ref).max().item() < 1e-5


@pytest.mark.parametrize(("k", "s", "p"), [(16, 6, 5), (15, 5, 5), (11, 5, 3), (4, 2, 1), (7, 3, 2)])
def test_conv_transpose1d_matches_mlx(k: int, s: int, p: int) -> None:
    conv = ConvTranspose1d(6, 5, k, s, padding=p)
    conv.bias = mx.random.normal((5,))
    x = mx.random.normal((2, 9, 6))
    ref = mx.conv_transpose1d(x, conv.weight, stride=s, padding=p) + conv.bias
    out = conv(x)
    assert out.shape == ref.shape == (2, 8 * s - 2 * p + k, 5)
    assert mx.abs(out - ref).max().item() < 1e-5


@pytest.mark.parametrize(("length", "k", "r"), [(1, 12, 2), (37, 12, 2), (50, 43, 3), (9, 4, 4)])
def test_fir_filters(length: int, k: int, r: int) -> None:
    rng = np.random.default_rng(length)
    x, taps = rng.standard_normal((2, length, 3)), rng.standard_normal(k)
    up = np.zeros((2, (length - 1) * r + k, 3))
    for i in range(length):
        up[:, i * r : i * r + k] += x[:, i : i + 1] * taps[None, :, None]
    got = upsample_fir(mx.array(x, mx.float32), mx.array(taps, mx.float32), r)
    np.testing.assert_allclose(np.array(got), up, atol=1e-5)
    n = (length - k) // r + 1
    if n > 0:
        down = np.stack([np.einsum("blc,l->bc", x[:, j * r : j * r + k], taps) for j in range(n)], axis=1)
        got = downsample_fir(mx.array(x, mx.float32), mx.array(taps, mx.float32), r)
        np.testing.assert_allclose(np.array(got), down, atol=1e-5)


def test_patchify_is_channel_major() -> None:
    x = mx.random.normal((2, 5, 16, 8))
    tokens = patchify(x)
    assert tokens.shape == (2, 5, 128)
    assert mx.array_equal(tokens[:, :, 3 * 16 + 7], x[:, :, 7, 3])
    assert mx.array_equal(unpatchify(tokens, 8), x)


@pytest.mark.parametrize("frames", [1, 2, 25, 26])
def test_vae_shapes(frames: int) -> None:
    args = vae_args()
    latent = AudioEncoder(args)(mx.random.normal((1, frames, 64, 2)))
    t = frames
    for _ in range(2):
        t = (t - 1) // 2 + 1
    assert latent.shape == (1, t, 16, 2)
    assert latent.dtype == mx.float32
    mel = AudioDecoder(args)(latent)
    assert mel.shape == (1, max(4 * t - 3, 1), 64, 2)


def test_decoder_output_is_cropped_or_padded() -> None:
    decoder = AudioDecoder(vae_args())
    short = decoder._adjust_output_shape(mx.ones((1, 7, 48, 3)), frames=9)  # (B, 4T−3, mel_bins, out_ch)
    assert short.shape == (1, 9, 64, 2)
    assert mx.all(short[:, 7:] == 0).item()
    assert mx.all(short[:, :, 48:] == 0).item()
    assert mx.all(short[:, :7, :48] == 1).item()
    assert decoder._adjust_output_shape(mx.ones((1, 12, 70, 2)), frames=9).shape == (1, 9, 64, 2)


def test_unsupported_vae_configs() -> None:
    with pytest.raises(ValueError, match=r"norm_type='group'.*mid_block_add_attention=True"):
        vae_args(norm_type="group", mid_block_add_attention=True)
    with pytest.raises(ValueError, match="attn_resolutions"):
        vae_args(attn_resolutions=[8])
    with pytest.raises(ValueError, match="ch=16 must equal"):
        vae_args(ch=16)
    with pytest.raises(ValueError, match="3 levels"):
        vae_args(ch_mult=[1, 2])


def test_unsupported_vocoder_configs() -> None:
    with pytest.raises(ValueError, match="resblock"):
        build_vocoder({**HIFIGAN, "resblock": "2"})
    with pytest.raises(ValueError, match="stereo"):
        build_vocoder({**HIFIGAN, "stereo": False})
    with pytest.raises(ValueError, match="same length"):
        VocoderArgs.from_dict({**HIFIGAN, "upsample_kernel_sizes": [16]})
    bad = copy.deepcopy(BWE)
    bad["bwe"]["hop_length"] = 60
    with pytest.raises(ValueError, match="hop_length"):
        VocoderWithBWEArgs.from_dict(bad)
    bad = copy.deepcopy(BWE)
    bad["vocoder"]["activation"] = "snake"
    with pytest.raises(ValueError, match="activation"):
        build_vocoder(bad)


@pytest.mark.parametrize(("config", "rate", "per_frame"), [(HIFIGAN, 24000, 240), (BWE, 48000, 480)])
def test_vocoder_runs_in_float32(config: dict, rate: int, per_frame: int) -> None:
    vocoder = build_vocoder(config)
    assert vocoder.output_sampling_rate == rate
    out = vocoder(mx.random.normal((1, 5, 64, 2)).astype(mx.bfloat16) - 4)
    assert out.shape == (1, 5 * per_frame, 2)
    assert out.dtype == mx.float32
    assert mx.abs(out).max().item() <= 1.0


def test_vocoder_rejects_mono_mel() -> None:
    with pytest.raises(ValueError, match="stereo mel"):
        build_vocoder(HIFIGAN)(mx.zeros((1, 5, 64, 1)))


@pytest.mark.parametrize(("config", "rate"), [(HIFIGAN, 24000), (BWE, 48000)])
def test_decode_audio(config: dict, rate: int) -> None:
    audio = decode_audio(mx.random.normal((1, 4, 16, 2)), AudioDecoder(vae_args()), build_vocoder(config))
    assert audio.sampling_rate == rate
    assert isinstance(audio.waveform, np.ndarray)
    assert audio.waveform.dtype == np.float32
    assert audio.waveform.shape == (2, (4 * 4 - 3) * rate // 100)
    with pytest.raises(ValueError, match="latent must be"):
        decode_audio(mx.zeros((2, 4, 16, 2)), AudioDecoder(vae_args()), build_vocoder(config))


def test_encode_audio(tmp_path: Path) -> None:
    encoder = AudioEncoder(vae_args())
    rng = np.random.default_rng(0)
    wave = (rng.uniform(-0.5, 0.5, (2, 22050))).astype(np.float32)  # 0.5 s at 44.1 kHz
    sf.write(tmp_path / "a.wav", wave.T, 44100, subtype="FLOAT")
    latent = encode_audio(tmp_path / "a.wav", encoder, start_time=0.1, max_duration=0.3)
    # 0.3 s -> 4800 samples at 16 kHz -> 31 mel frames -> 16 -> 8 latent frames
    assert latent.shape == (1, 8, 16, 2)
    direct = encoder(AudioProcessor().waveform_to_mel(wave[:, 4410 : 4410 + 13230], 44100))
    assert mx.abs(latent - direct).max().item() < 1e-5
    # mono input is duplicated to stereo
    mono = encode_waveform(Audio(wave[:1], 44100), encoder)
    stereo = encode_waveform(Audio(np.repeat(wave[:1], 2, axis=0), 44100), encoder)
    assert mx.array_equal(mono, stereo)


def test_processor_rejects_short_audio() -> None:
    with pytest.raises(ValueError, match="too short"):
        AudioProcessor().waveform_to_mel(np.zeros((2, 400), np.float32), 16000)
