"""A tiny LTX-2 (not only 2.3): `ltx generate --model tiny-2` builds its Lightricks-format checkpoint (LTX-2's config
keys: no gated attention or cross-attention AdaLN, the caption projection in the transformer, feature extractor v1,
HiFi-GAN vocoder at 24 kHz, rational x2 upscaler), converts it and writes an MP4; `ltx info tiny-2` says LTX-2
(issue 14 item 9)."""

from __future__ import annotations

import json
import shutil

import pytest

from mlx_ltx_cli import tiny
from mlx_ltx_cli.resolve import TINY_MODELS

from cli_testing import probe, run_ltx

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")


def test_the_tiny_names_are_the_tiny_models() -> None:
    assert set(tiny.TINY_MODELS) == set(TINY_MODELS) - {"tiny-2.5"}  # 2.5 is built by mlx_ltx_cli.tiny25
    t2 = tiny.TINY_2.config["transformer"]
    assert not {"apply_gated_attention", "cross_attention_adaln", "caption_proj_before_connector"} & set(t2)
    assert "bwe" not in tiny.TINY_2.config["vocoder"]  # LTX-2's flat HiFi-GAN config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny2")


def test_generate_with_tiny_2_writes_h264_and_24_khz_aac(workdir, ltx_cache) -> None:
    done = run_ltx(["generate", "--model", "tiny-2", "-p", "a fox", "-o", "t2.mp4"], ltx_cache, workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    streams = {s["codec_type"]: s for s in probe(workdir / "t2.mp4")["streams"]}
    assert (streams["video"]["codec_name"], streams["video"]["width"], streams["video"]["height"]) == ("h264", 192, 128)
    assert int(streams["video"]["nb_read_frames"]) == 9
    assert (streams["audio"]["codec_name"], int(streams["audio"]["sample_rate"])) == ("aac", 24000)  # HiFi-GAN
    info = run_ltx(["info", "tiny-2"], ltx_cache, workdir)
    assert info.returncode == 0, info.stderr
    assert "model ltx-2 2.0.0" in " ".join(info.stdout.split())  # rich wraps the long header line


def test_tiny_2_runs_the_dev_two_stage_pipeline_with_the_temporal_upscaler(workdir, ltx_cache) -> None:
    args = ["generate", "--model", "tiny-2", "-p", "a fox", "--pipeline", "dev-two-stage", "--steps", "2"]
    done = run_ltx([*args, "--temporal-upscale", "-o", "t2x2.mp4"], ltx_cache, workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    (video,) = [s for s in probe(workdir / "t2x2.mp4")["streams"] if s["codec_type"] == "video"]
    assert (int(video["nb_read_frames"]), video["r_frame_rate"]) == (17, "48/1")


def test_tiny_checkpoint_writes_the_ltx_2_files(workdir, ltx_cache) -> None:
    done = run_ltx(["tiny-checkpoint", "files", "--model", "tiny-2"], ltx_cache, workdir)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (workdir / "files").iterdir())
    assert names == [
        "gemma",
        "ltx-2-tiny-distilled-lora.safetensors",
        "ltx-2-tiny-random.safetensors",
        "ltx-2-tiny-spatial-upscaler-x2.safetensors",
        "ltx-2-tiny-temporal-upscaler-x2.safetensors",
    ]
    with open(workdir / "files" / "ltx-2-tiny-random.safetensors", "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    assert header["__metadata__"]["model_version"] == "2.0.0"
    bad = run_ltx(["tiny-checkpoint", "more", "--model", "tiny-3"], ltx_cache, workdir)
    assert bad.returncode == 2 and "--model 'tiny-3': choose one of tiny, tiny-2" in bad.stderr
