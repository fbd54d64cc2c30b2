"""Repo-id inputs: which files a conversion downloads (a pure choice over the repo's file list), local paths first."""

from __future__ import annotations

import pytest

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.hub import HubRequest, parse_source, resolve, select_repo_files

# The published files (shared/reference vae-audio-text-io.md §6) plus the diffusers layout the repos also host.
LTX2 = [
    "ltx-2-19b-dev.safetensors",
    "ltx-2-19b-dev-fp8.safetensors",
    "ltx-2-19b-distilled.safetensors",
    "ltx-2-19b-distilled-fp8.safetensors",
    "ltx-2-spatial-upscaler-x2-1.0.safetensors",
    "ltx-2-temporal-upscaler-x2-1.0.safetensors",
    "ltx-2-19b-distilled-lora-384.safetensors",
    "vae/config.json",
    "transformer/diffusion_pytorch_model-00001-of-00008.safetensors",
    "README.md",
]
LTX23 = [
    "ltx-2.3-22b-dev.safetensors",
    "ltx-2.3-22b-distilled.safetensors",
    "ltx-2.3-22b-distilled-1.1.safetensors",
    "ltx-2.3-spatial-upscaler-x2-1.0.safetensors",
    "ltx-2.3-spatial-upscaler-x2-1.1.safetensors",
    "ltx-2.3-spatial-upscaler-x1.5-1.0.safetensors",
    "ltx-2.3-temporal-upscaler-x2-1.0.safetensors",
    "ltx-2.3-22b-distilled-lora-384.safetensors",
]
# LTX-2.5's split release (shared/reference/ltx-2.5.md §1.1).
LTX25 = [
    "diffusion_models/ltx-2.5-22b-dev-transformer-bf16.safetensors",
    "diffusion_models/ltx-2.5-22b-distilled-transformer-bf16.safetensors",
    "diffusion_models/ltx-2.5-22b-distilled-transformer-nvfp4.safetensors",
    "text_encoders/gemma4-12b-with-proj-ltx-2.5-bf16.safetensors",
    "vae/ltx-2.5-video-vae-bf16.safetensors",
    "vae/ltx-2.5-video-vae-conv-bf16.safetensors",
    "vae/ltx-2.5-audio-vae-bf16.safetensors",
    "latent_upscale_models/ltx-2.5-latent-spatial-upscaler-x2-bf16-1.0.safetensors",
    "latent_upscale_models/ltx-2.5-latent-temporal-upscaler-x2-bf16-1.0.safetensors",
    "loras/ltx-2.5-22b-distilled-lora-450-bf16.safetensors",
    "model_patches/ltx-2.5-duration-head-bf16.safetensors",
]


def test_a_split_release_picks_one_file_per_component() -> None:
    request = HubRequest("dev", upscalers=("spatial-x2",), include=("loras/*lora-450*",))
    assert select_repo_files("L/LTX-2.5", LTX25, request) == [
        "diffusion_models/ltx-2.5-22b-dev-transformer-bf16.safetensors",
        "vae/ltx-2.5-video-vae-conv-bf16.safetensors",
        "vae/ltx-2.5-audio-vae-bf16.safetensors",
        "latent_upscale_models/ltx-2.5-latent-spatial-upscaler-x2-bf16-1.0.safetensors",
        "loras/ltx-2.5-22b-distilled-lora-450-bf16.safetensors",
    ]
    assert select_repo_files("L/LTX-2.5", LTX25, HubRequest())[0].endswith("22b-distilled-transformer-bf16.safetensors")
    with pytest.raises(ConversionError, match=r"L/LTX-2\.5: a split release has no fp8 files; drop --fp8"):
        select_repo_files("L/LTX-2.5", LTX25, HubRequest(fp8=True))


def test_one_checkpoint_of_the_variant() -> None:
    assert select_repo_files("L/LTX-2", LTX2, HubRequest("dev")) == ["ltx-2-19b-dev.safetensors"]
    assert select_repo_files("L/LTX-2", LTX2, HubRequest("distilled", fp8=True)) == [
        "ltx-2-19b-distilled-fp8.safetensors"
    ]


def test_newest_release_and_upscalers() -> None:
    request = HubRequest("distilled", upscalers=("spatial-x2", "spatial-x1.5"))
    assert select_repo_files("L/LTX-2.3", LTX23, request) == [
        "ltx-2.3-22b-distilled-1.1.safetensors",
        "ltx-2.3-spatial-upscaler-x2-1.1.safetensors",
        "ltx-2.3-spatial-upscaler-x1.5-1.0.safetensors",
    ]
    everything = select_repo_files("L/LTX-2", LTX2, HubRequest("dev", upscalers=("all",), include=("*lora*",)))
    assert everything == [
        "ltx-2-19b-dev.safetensors",
        "ltx-2-spatial-upscaler-x2-1.0.safetensors",
        "ltx-2-temporal-upscaler-x2-1.0.safetensors",
        "ltx-2-19b-distilled-lora-384.safetensors",
    ]


def test_missing_choices_are_one_line_errors() -> None:
    with pytest.raises(ConversionError, match=r"L/LTX-2\.3: no distilled fp8 checkpoint among"):
        select_repo_files("L/LTX-2.3", LTX23, HubRequest("distilled", fp8=True))
    with pytest.raises(ConversionError, match=r"no upscaler \['spatial-x4'\]; available: \['spatial-x1\.5'"):
        select_repo_files("L/LTX-2.3", LTX23, HubRequest(upscalers=("spatial-x4",)))
    with pytest.raises(ConversionError, match=r"include pattern '\*\.gguf' matches no file"):
        select_repo_files("L/LTX-2.3", LTX23, HubRequest(include=("*.gguf",)))
    with pytest.raises(ConversionError, match=r"pickle format \(\.bin\)"):
        select_repo_files("L/LTX-2.3", [*LTX23, "old.bin"], HubRequest(include=("*.bin",)))


def test_local_paths_win_and_repo_ids_parse(tmp_path) -> None:
    local = tmp_path / "Lightricks" / "LTX-2"
    local.mkdir(parents=True)
    assert parse_source(str(local)) is None
    assert parse_source("Lightricks/LTX-2.3") == ("Lightricks/LTX-2.3", None)
    assert parse_source("hf://Lightricks/LTX-2/ltx-2-19b-dev.safetensors") == (
        "Lightricks/LTX-2",
        "ltx-2-19b-dev.safetensors",
    )
    with pytest.raises(ConversionError, match="no such file, and not a Hugging Face repo id"):
        parse_source("missing-model")
    for missing in ("missing.safetensors", "ckpts/ltx.safetensors", "./a/b/c.safetensors", str(tmp_path / "x")):
        with pytest.raises(ConversionError, match=r": no such file$"):
            parse_source(missing)
    assert parse_source("hf://ckpts/ltx.safetensors") == ("ckpts/ltx.safetensors", None)
    paths, origins = resolve([str(local)], HubRequest())
    assert paths == [local] and origins == {}


def test_pickle_from_a_repo_is_refused_before_downloading() -> None:
    with pytest.raises(ConversionError, match=r"pickle format \(\.ckpt\)"):
        resolve(["Lightricks/LTX-Video/ltxv-2b.ckpt"], HubRequest())
