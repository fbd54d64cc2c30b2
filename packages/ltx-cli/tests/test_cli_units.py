"""The CLI's own logic without a model: option folding, option checks, lazy imports."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mlx_ltx_cli.argv import SEP, fold, split
from mlx_ltx_cli.request import GenerateOptions, check, parse_blocks, parse_images, parse_loras


def test_fold_takes_trailing_numbers_only() -> None:
    args = ["generate", "-i", "a.png", "16", "0.5", "-i", "b.png", "-p", "x", "--lora-path", "l.safetensors", "-0.5"]
    folded = fold(args)
    assert folded == [
        "generate",
        "-i",
        f"a.png{SEP}16{SEP}0.5",
        "-i",
        "b.png",
        "-p",
        "x",
        "--lora-path",
        f"l.safetensors{SEP}-0.5",
    ]
    assert split(folded[2]) == ["a.png", "16", "0.5"]
    assert fold(["-i", "a.png", "1", "2", "3"]) == ["-i", f"a.png{SEP}1{SEP}2", "3"]  # at most FRAME_IDX STRENGTH


def test_parse_images_and_loras(tmp_path: Path) -> None:
    image = tmp_path / "i.png"
    image.write_bytes(b"x")
    assert parse_images([str(image), f"{image}{SEP}8{SEP}0.5"], 0.9, 25) == [(str(image), 0, 0.9), (str(image), 8, 0.5)]
    assert parse_loras(["a", f"b{SEP}0.3"], 1.0) == [("a", 1.0), ("b", 0.3)]
    assert parse_blocks(" 28, 29") == [28, 29]


def test_check_runs_before_any_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="num_frames=24 must be 8k\\+1"):
        check(GenerateOptions(prompt="x", num_frames=24, output_path=tmp_path / "o.mp4"))
    assert check(GenerateOptions(prompt="x", output_path=tmp_path / "o.mp4")) == tmp_path / "o.mp4"
    auto = check(GenerateOptions(prompt="A fox, in snow!", auto_output_name=True, seed=3))
    assert auto == Path("a-fox-in-snow-3.mp4")


def test_help_does_not_import_mlx() -> None:
    probe = "import sys, mlx_ltx_cli.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlx'))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_help_names_every_pipeline_and_the_tiling_presets_come_from_core() -> None:
    import typing

    from mlx_ltx_cli.generate import generate
    from mlx_ltx_cli.request import tiling_names
    from mlx_ltx_core.model.video_vae import TILING_PRESETS
    from mlx_ltx_pipelines.pipelines import BY_NAME

    help_text = typing.get_type_hints(generate, include_extras=True)["pipeline"].__metadata__[0].help
    assert all(name in help_text for name in BY_NAME), help_text
    assert tiling_names() == ("auto", *TILING_PRESETS)
    with pytest.raises(ValueError, match="--pipeline 'turbo': choose one of distilled, dev,"):
        check(GenerateOptions(prompt="x", pipeline="turbo"))


def test_errors_naming_a_parameter_get_the_option() -> None:
    from mlx_ltx_cli.errors import message_of
    from mlx_ltx_pipelines.errors import ParameterError

    error = ParameterError("text_encoder_path", "no text encoder given: pass text_encoder_path=")
    assert (
        message_of(error)
        == "no text encoder given: pass text_encoder_path= (--text-encoder-path or --text-encoder-repo)"
    )
    assert message_of(ValueError("num_frames=3 must be 8k+1\nmore")) == "num_frames=3 must be 8k+1"


def test_fold_takes_nan_and_inf_so_that_the_checks_refuse_them() -> None:
    assert fold(["-i", "a.png", "0", "nan"]) == ["-i", f"a.png{SEP}0{SEP}nan"]
    assert fold(["--lora-path", "l.safetensors", "-inf"]) == ["--lora-path", f"l.safetensors{SEP}-inf"]
    with pytest.raises(ValueError, match=r"--lora-path l\.safetensors STRENGTH: STRENGTH '-inf' must be a finite"):
        parse_loras([f"l.safetensors{SEP}-inf"], 1.0)


def test_exit_codes_tell_bad_input_from_bugs() -> None:
    import errno

    from mlx_ltx_cli.errors import exit_code, message_of

    full = OSError(errno.ENOSPC, "No space left on device", "out.mp4")
    assert (exit_code(full), message_of(full)) == (2, "out.mp4: no space left on device")
    loop = OSError(errno.ELOOP, "Too many levels of symbolic links", "a", None, "b")
    assert (exit_code(loop), message_of(loop)) == (2, "a -> b: too many levels of symbolic links")
    assert exit_code(MemoryError()) == 2 and "out of memory" in message_of(MemoryError())
    assert exit_code(ValueError("x")) == exit_code(FileNotFoundError()) == exit_code(NotADirectoryError()) == 2
    assert exit_code(KeyError("k")) == exit_code(TypeError()) == exit_code(RuntimeError()) == 1


def test_decode_names_the_video_after_the_latents_minus_their_suffix_only() -> None:
    from mlx_ltx_cli.commands import latents_video_name

    assert latents_video_name(Path("out/fox.v2.latents.safetensors")) == Path("out/fox.v2.mp4")
    assert latents_video_name(Path("fox.latents.safetensors")) == Path("fox.mp4")
    assert latents_video_name(Path("fox.v3.safetensors")) == Path("fox.v3.mp4")


def test_enhance_prompt_with_an_image_warns_that_the_rewrite_does_not_see_it(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), (10, 20, 30)).save(tmp_path / "i.png")
    options = GenerateOptions(prompt="x", output_path=tmp_path / "o.mp4", enhance_prompt=True)
    with pytest.warns(UserWarning, match="without seeing --image"):
        check(dataclasses.replace(options, image=[str(tmp_path / "i.png")]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(options)  # no image: nothing to warn about


def test_auto_output_name_numbers_a_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    options = GenerateOptions(prompt="A fox", auto_output_name=True, seed=3)
    assert check(options) == Path("a-fox-3.mp4")
    Path("a-fox-3.mp4").write_bytes(b"an earlier run")
    assert check(options) == Path("a-fox-3-2.mp4")
    Path("a-fox-3-2.mp4").write_bytes(b"another")
    assert check(options) == Path("a-fox-3-3.mp4")
    assert check(dataclasses.replace(options, overwrite=True)) == Path("a-fox-3.mp4")
