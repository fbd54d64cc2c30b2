"""The tiny configs' one home: the goldens entries are exactly what produced the committed goldens (as their
manifests record), and the CLI's tiny model and the generators read the same file."""

from __future__ import annotations

import sys
from pathlib import Path

from mlx_ltx_core.tiny_configs import tiny_config

from ltx_testing import manifest

ROOT = Path(__file__).resolve().parents[1]
VAE_OF = {  # vae golden case -> goldens.vae entry
    "video_encoder_ltx2": "ltx2",
    "video_encoder_ltx2_tiled_spatial": "ltx2",
    "video_encoder_ltx2_tiled_temporal": "ltx2",
    "video_encoder_ltx23": "ltx23",
    "video_decoder_ltx2": "ltx2_dec",
    "video_decoder_ltx2_tiled": "ltx2_dec_zeros",
    "video_decoder_ltx2_tiled_spatial": "ltx2_dec",
    "video_decoder_tcond": "tcond_dec",
    "video_decoder_ltx23": "ltx23_dec",
}


def test_goldens_configs_match_the_manifests():
    goldens = tiny_config("goldens")
    assert {k: v["config"] for k, v in manifest("transformer")["configs"].items()} == goldens["transformer"]
    for case, info in manifest("vae")["cases"].items():
        want = goldens["upsampler"][case] if case.startswith("upsampler") else goldens["vae"][VAE_OF[case]]
        assert info["config"] == want, case
    audio = manifest("audio")["cases"]
    assert audio["audio_encoder"]["config"] == audio["audio_decoder"]["config"] == goldens["audio_vae"]
    assert audio["vocoder_hifigan"]["config"] == goldens["vocoder_hifigan"]
    assert audio["vocoder_bwe"]["config"] == goldens["vocoder_bwe"]
    text = manifest("text")["cases"]
    assert {v: text[f"text_connector_{v}"]["transformer_config"] for v in ("v1", "v2")} == goldens["text_connector"]
    text25 = manifest("text25")["cases"]
    assert text25["gemma4_hidden_states"]["gemma_config"] == tiny_config("model_2.5", "text_encoder")
    assert text25["text25_connector"]["transformer_config"] == goldens["text25"]["connector"]
    assert text25["duration_head"]["config"] == goldens["text25"]["duration_head"]


def test_generators_and_cli_read_the_same_file():
    sys.path.insert(0, str(ROOT / "tools" / "parity"))
    try:
        import tiny_configs as generators
    finally:
        sys.path.pop(0)
    assert generators.tiny_config("goldens") == tiny_config("goldens")
    from mlx_ltx_cli import tiny

    assert {k: tiny_config("model", k) for k in ("transformer", "vae", "audio_vae", "vocoder")} == tiny.METADATA_CONFIG
    assert tiny_config("model", "upscaler") == tiny.UPSCALER_CONFIG
    assert {k: tiny.TINY_2.config[k] for k in ("transformer", "vocoder")} == {
        k: tiny_config("model_2", k) for k in ("transformer", "vocoder")
    }
