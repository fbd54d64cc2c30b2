"""A tiny LTX-2.5 in the real split-file format (mlx_ltx_cli.tiny25) → `ltx convert FILE…` → one model folder whose
components load strictly; `ltx info` says 2.5. The text projection, split over the transformer and text-encoder
files, is joined from both; the text-encoder file's Gemma 4 and tokenizer become the text_encoder component; the
encoder-version check runs before Gemma loads; `ltx generate --model tiny-2.5` writes an MP4 (ffprobe)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from mlx_ltx_cli import tiny
from mlx_ltx_cli.info import print_checkpoint_info, print_info
from mlx_ltx_cli.tiny25 import GEMMA_SOURCE, TEXT_ENCODER_FILE, TRANSFORMER_25, write_tiny_25_files
from mlx_ltx_convert import prefixes
from mlx_ltx_convert.components import by_name
from mlx_ltx_convert.convert import convert
from mlx_ltx_convert.errors import ConversionError

SPLIT_COMPONENTS = {
    "transformer",
    "text_projection",
    "text_encoder",
    "duration_head",
    "video_encoder",
    "video_decoder",
    "audio_encoder",
    "audio_decoder",
    "vocoder",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_tiny_25_files(tmp_path_factory.mktemp("ltx25"))


@pytest.fixture(scope="module")
def model(files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("converted") / "model"
    convert(files, out)
    return out


def test_split_files_convert_into_one_folder_that_loads_strictly(files: list[Path], model: Path) -> None:
    from mlx_ltx_audio.loader import load_audio_decoder, load_audio_encoder, load_vocoder
    from mlx_ltx_core.model.transformer import load_transformer
    from mlx_ltx_core.model.video_vae.loading import load_video_decoder, load_video_encoder

    index = json.loads((model / "model_index.json").read_text())
    assert (index["model_version"], index["model_family"]) == ("2.5.0", "ltx-2.5")
    extra = {"spatial_upscaler_x2", "loras/ltx-2.5-tiny-distilled-lora"}
    assert set(index["components"]) == SPLIT_COMPONENTS | extra
    assert index["components"]["video_decoder"]["source"] == "ltx-2.5-tiny-video-vae-conv.safetensors"
    assert index["components"]["text_projection"]["source"] == f"{files[0].name} + {TEXT_ENCODER_FILE}"
    (message,) = index["not_converted"].values()  # Gemma 4's vision / audio embedders: LTX encodes text only
    assert "vision_model.*" in message and "Gemma 4 vision / audio embedders" in message
    transformer = load_transformer(model / "transformer")
    assert transformer.args.use_keyframes_abs_pos_embedding and not transformer.args.ff_bias
    assert "bias" not in transformer.transformer_blocks[0].ff.net[2]
    assert "bias" in transformer.transformer_blocks[0].audio_ff.net[2]
    with safe_open(str(files[0]), "np") as f:
        stored = f.get_tensor(prefixes.TRANSFORMER + "keyframes_abs_pos_embedding")
    np.testing.assert_array_equal(np.array(transformer.keyframes_abs_pos_embedding), stored)
    for load, name in (
        (load_video_encoder, "video_encoder"),
        (load_video_decoder, "video_decoder"),
        (load_audio_encoder, "audio_encoder"),
        (load_audio_decoder, "audio_decoder"),
        (load_vocoder, "vocoder"),
    ):
        assert load(model / name) is not None


def test_the_text_encoder_and_duration_head_load_and_run(model: Path) -> None:
    """The converted Gemma 4 (tokenizer from the stored assets) → projection → duration head, end to end."""
    from mlx_ltx_text import PromptEncoder, load_duration_head

    encoder = PromptEncoder.load(model / "text_encoder", model / "text_projection")
    assert type(encoder.text_encoder).__name__ == "Gemma4TextEncoder"
    (video, audio, mask), _ = encoder.encode_prompts(["a fox in the snow", ""])
    assert video.shape == (1, 1024, 32) and audio.shape == (1, 1024, 16) and bool(mask.all())
    seconds = load_duration_head(model / "duration_head")(video, audio)
    assert seconds.shape == (1,) and float(seconds[0]) > 0


def test_another_gemma_is_refused_before_it_loads(model: Path, tmp_path: Path) -> None:
    from mlx_ltx_text import GemmaVersionError, PromptEncoder

    other = Path(shutil.copytree(model / "text_encoder", tmp_path / "text_encoder"))
    config = json.loads((other / "config.json").read_text())
    config["gemma_version"] = "gemma4-12b-ltx-v2"
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(GemmaVersionError, match="gemma_version='gemma4-12b-ltx-v2' but the checkpoint was trained"):
        PromptEncoder.load(other, model / "text_projection")


def test_info_says_2_5(files: list[Path], model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert print_info(model, verify=False) == []
    assert "model ltx-2.5 2.5.0" in capsys.readouterr().out
    print_checkpoint_info(files[0])  # `ltx info FILE`: from the header alone
    assert "checkpoint, 2.5.0, ltx-2.5" in capsys.readouterr().out


def test_the_text_projection_is_joined_from_two_files(files: list[Path], tmp_path: Path) -> None:
    """The transformer file's connectors and a second file's ``text_embedding_projection.*`` make one component."""
    from mlx_ltx_text.loading import load_text_projection

    spec = by_name("text_projection")
    assert spec is not None
    config = {"transformer": TRANSFORMER_25}
    params = tiny._parameters(spec, spec.config(config), seed=5)
    projection = {k: v for k, v in params.items() if k.startswith(prefixes.TEXT_PROJECTION)}
    part = tmp_path / "projection-part.safetensors"
    save_file(projection, str(part), metadata={"config": json.dumps(config), "model_version": "2.5.0"})
    out = tmp_path / "model"
    index = convert([files[0], part], out, components=tiny._components()).index
    entry = index["components"]["text_projection"]
    assert entry["source"] == f"{files[0].name} + {part.name}" and not index["not_converted"]
    recorded = json.loads((out / "text_projection" / "config.json").read_text())["mlx_ltx"]
    assert recorded["gemma_source_checkpoint"] == GEMMA_SOURCE and recorded["model_version"] == "2.5.0"
    processor = load_text_projection(out / "text_projection")  # strict: every key from one of the two files
    name = next(iter(projection))
    np.testing.assert_array_equal(np.array(dict(_flat(processor))[name]), projection[name])


def _flat(module) -> list[tuple[str, mx.array]]:
    from mlx.utils import tree_flatten

    return tree_flatten(module.parameters())


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian package ffmpeg) is missing")
def test_generate_tiny_2_5_writes_an_mp4(tmp_path: Path) -> None:
    """`ltx generate --model tiny-2.5`: split files → convert (cached) → Gemma 4 → distilled (ancestral) → MP4."""
    from cli_testing import probe, run_ltx

    done = run_ltx(["generate", "--model", "tiny-2.5", "-p", "a fox in the snow", "-o", "fox.mp4"], tmp_path, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    streams = {s["codec_type"]: s for s in probe(tmp_path / "fox.mp4")["streams"]}
    assert (streams["video"]["codec_name"], streams["video"]["width"], streams["video"]["height"]) == ("h264", 192, 128)
    assert int(streams["video"]["nb_read_frames"]) == 9 and streams["audio"]["codec_name"] == "aac"
    info = run_ltx(["info", str(next(tmp_path.glob("tiny-2.5-*")) / "model")], tmp_path, tmp_path)
    assert info.returncode == 0 and "ltx-2.5 2.5.0" in info.stdout


def test_the_distilled_pipeline_follows_the_2_5_row(model: Path) -> None:
    """Stage 1 of LTX-2.5's distilled pipeline is the ancestral Euler (noise seed = seed + 10000), image CRF 18;
    the pipeline finds the model's own Gemma 4 (no text encoder path)."""
    from mlx_ltx_pipelines.euler_ancestral import EulerAncestralSampler
    from mlx_ltx_pipelines.pipelines import DistilledPipeline

    pipeline = DistilledPipeline(model)
    assert pipeline.sampler(7) == EulerAncestralSampler(noise_seed=10_007)
    assert pipeline.params.image_crf == 18
    assert pipeline.ledger.text_encoder_path is None and pipeline.ledger.has("text_encoder")


def test_the_golden_text_encoder_file_converts_and_reproduces_transformers(tmp_path: Path) -> None:
    """The text25 goldens' text-encoder file (the shipped layout) alone: its Gemma 4 becomes the text_encoder
    folder, which reproduces transformers' hidden states; the projection waits for the transformer file."""
    from mlx_ltx_text import Gemma4TextEncoder

    from ltx_testing import assert_parity, goldens_root, group, load, manifest

    case = manifest("text25")["cases"]["gemma4_hidden_states"]
    index = convert([goldens_root() / "text25" / case["text_encoder_file"]], tmp_path / "model").index
    assert set(index["components"]) == {"text_encoder"}
    assert "needs the transformer file" in index["not_converted"]["text_projection part"]
    encoder = Gemma4TextEncoder.load(
        tmp_path / "model" / "text_encoder", dtype=mx.float32, max_length=case["max_length"]
    )
    hidden, _ = encoder.encode(case["prompts"])
    expected = group(load("text25", case["file"]), "outputs_f64")["hidden_states_BTDL"]
    assert_parity(hidden, expected, 1e-4, "converted Gemma 4 hidden states")


def test_a_text_encoder_of_another_gemma_version_is_refused_before_converting(
    files: list[Path], tmp_path: Path
) -> None:
    from mlx_ltx_cli.tiny25 import GEMMA4_CONFIG, write_tiny_text_encoder

    te = write_tiny_text_encoder(tmp_path / "te.safetensors")
    with safe_open(str(te), "np") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    other = tmp_path / "other-te.safetensors"
    save_file(tensors, str(other), metadata={"gemma_config": json.dumps({**GEMMA4_CONFIG, "gemma_version": "v9"})})
    with pytest.raises(ConversionError, match=r"other-te\.safetensors: this Gemma has gemma_version='v9'"):
        convert([files[0], other], tmp_path / "out")
    assert not (tmp_path / "out").exists()
