"""A tiny LTX-2.5 in the real split-file format (mlx_ltx_cli.tiny25) → `ltx convert FILE…` → one model folder whose
components load strictly; `ltx info` says 2.5. The text projection, split over the transformer and text-encoder
files, is joined from both (a stand-in projection file here: the real text-encoder file comes with Gemma 4)."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from mlx_ltx_cli import tiny
from mlx_ltx_cli.info import print_checkpoint_info, print_info
from mlx_ltx_cli.tiny25 import GEMMA_SOURCE, TRANSFORMER_25, write_tiny_25_files
from mlx_ltx_convert import prefixes
from mlx_ltx_convert.components import by_name
from mlx_ltx_convert.convert import convert

SPLIT_COMPONENTS = {"transformer", "video_encoder", "video_decoder", "audio_encoder", "audio_decoder", "vocoder"}


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
    (message,) = index["not_converted"].values()  # the connectors wait for the text-encoder file
    assert "video_embeddings_connector.*" in message and "needs the text-encoder file" in message
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
