"""The `ltx-convert` command (also mounted as `ltx convert`). Heavy imports stay inside commands.

`ltx-convert SOURCE... -o FOLDER` is `ltx-convert convert ...`; bad input exits with code 2 and one line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from typer._click import Context
from typer.core import TyperGroup

from mlx_ltx_convert.errors import ConversionError


class _ConvertByDefault(TyperGroup):
    """Runs `convert` when the first argument is not a command name."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["convert", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Context, formatter) -> None:
        """The group's help, then the options of `convert` (the default command), so `ltx convert --help` shows them."""
        super().format_help(ctx, formatter)
        command = self.commands.get("convert")
        if command is not None:
            formatter.write_paragraph()
            formatter.write_text("Options of `convert` (the default command; `convert --help` for its arguments):")
            command.format_options(Context(command, info_name="convert", parent=ctx), formatter)


app = typer.Typer(
    name="ltx-convert",
    cls=_ConvertByDefault,
    help=(
        "Convert Lightricks LTX-2 / LTX-2.3 checkpoints into MLX model folders. "
        "`convert` is the default command: `ltx-convert SOURCE... -o FOLDER`.\n\n"
        "  ltx-convert ltx-2.3-22b-distilled.safetensors -o ltx-2.3-distilled-mlx\n\n"
        "  ltx-convert Lightricks/LTX-2.3 --variant distilled --upscaler spatial-x2 -o ltx23 --quantize 8\n\n"
        "  ltx-convert verify ltx23"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]?I?B?)", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9}
_UNITS.update({"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3})


# The option of each Python parameter a ConversionError may name.
FLAGS = {
    "overwrite": "--overwrite",
    "output": "--output",
    "bits": "--quantize",
    "group_size": "--group-size",
    "components": "--quantize-components",
    "dtype": "--dtype",
    "include": "--include",
    "revision": "--revision",
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _message(error: ValueError) -> str:
    """The error's text, with the option of the Python parameter it names."""
    flag = FLAGS.get(getattr(error, "parameter", None) or "")
    return f"{error} ({flag})" if flag else str(error)


def _bytes(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ConversionError(f"--max-shard-size {text!r}: use e.g. 5GiB, 500MB or a number of bytes")
    unit = _UNITS.get(match.group(2).upper())
    if unit is None:
        raise ConversionError(f"--max-shard-size {text!r}: unknown unit; use B, KB, MB, GB, KiB, MiB or GiB")
    return int(float(match.group(1)) * unit)


@app.command()
def convert(
    sources: Annotated[
        list[str],
        typer.Argument(help="Checkpoint, upscaler and LoRA .safetensors files, or Hugging Face repo ids (owner/name)."),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Model folder to write (must not exist).")],
    quantize: Annotated[
        int | None, typer.Option(help="Quantize the recipe's layers to 4 or 8 bits (MLX affine).")
    ] = None,
    group_size: Annotated[int, typer.Option(help="Quantization group size: 32, 64 or 128.")] = 64,
    mixed: Annotated[
        bool, typer.Option(help="Mixed recipe: first block and last five one step higher (4→8 bit, 8→float).")
    ] = False,
    quantize_components: Annotated[
        str, typer.Option(help="Comma-separated components to quantize; the others stay in float.")
    ] = "transformer",
    dtype: Annotated[
        str, typer.Option(help="Float dtype: keep (fp8 → bfloat16), bfloat16, float16, float32.")
    ] = "keep",
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace an existing model folder written by ltx-convert, or an empty folder (atomically, at the end)."
        ),
    ] = False,
    max_shard_size: Annotated[str, typer.Option(help="Largest shard file (e.g. 5GiB, 2GB).")] = "5GiB",
    variant: Annotated[str, typer.Option(help="Repo ids: dev or distilled checkpoint.")] = "distilled",
    fp8: Annotated[
        bool, typer.Option(help="Repo ids: take the fp8 checkpoint (dequantized while converting).")
    ] = False,
    upscaler: Annotated[
        list[str] | None, typer.Option(help="Repo ids: upscaler to add, e.g. spatial-x2, temporal-x2, all.")
    ] = None,
    include: Annotated[list[str] | None, typer.Option(help="Repo ids: extra files by glob (e.g. LoRAs).")] = None,
    revision: Annotated[str | None, typer.Option(help="Repo ids: branch, tag or commit.")] = None,
    text_encoder_path: Annotated[
        Path | None,
        typer.Option(help="The Gemma folder the checkpoint was trained with, when not Gemma 3 12B (its width)."),
    ] = None,
) -> None:
    """Convert checkpoints (local files or Hugging Face repos) into one MLX model folder."""
    from mlx_ltx_convert.convert import convert as run
    from mlx_ltx_convert.hub import HubRequest, resolve
    from mlx_ltx_convert.quantize import QuantizeOptions
    from mlx_ltx_convert.report import print_report, progress_bar
    from mlx_ltx_core import signals

    signals.handle_termination()
    try:
        if not output.strip():  # read as str: Path("") would be "." (the current folder)
            raise ConversionError("--output '': give the model folder to write, e.g. -o ltx23-mlx")
        if mixed and quantize is None:
            raise ConversionError("--mixed sets the bits of some quantized layers: pass --quantize 8 (or 4) with it")
        options = None
        if quantize is not None:
            components = tuple(c.strip() for c in quantize_components.split(",") if c.strip())
            options = QuantizeOptions(quantize, group_size, mixed, components)
        components = _with_text_encoder(text_encoder_path)
        request = HubRequest(variant, fp8, tuple(upscaler or ()), tuple(include or ()))
        paths, origins = resolve(sources, request, revision)
        with progress_bar(paths) as advance:
            report = run(
                paths,
                Path(output),
                quantize=options,
                dtype=dtype,
                overwrite=overwrite,
                max_shard_bytes=_bytes(max_shard_size),
                origins=origins,
                progress=advance,
                components=components,
            )
    except ValueError as e:
        hint = ""
        if "text_projection" in str(e) and text_encoder_path is None:
            hint = "; a checkpoint made for another Gemma: pass --text-encoder-path with that Gemma's folder"
        raise _fail(_message(e) + hint) from None
    except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM or SIGHUP (mlx_ltx_core.signals): the partial folder is gone
        raise _fail(f"{signals.describe(e)}; {output} was not written", signals.exit_code(e)) from None
    print_report(report)


def _with_text_encoder(folder: Path | None) -> tuple:
    """The converter's components, with the text projection sized for the Gemma in ``folder`` (its config.json's
    hidden_size and num_hidden_layers) instead of Gemma 3 12B's."""
    import dataclasses
    import json

    from mlx_ltx_convert.components import COMPONENTS

    if folder is None:
        return COMPONENTS
    try:
        config = json.loads((folder / "config.json").read_text())
        text = config.get("text_config", config)
        gemma = {
            "gemma": {"hidden_size": int(text["hidden_size"]), "num_hidden_layers": int(text["num_hidden_layers"])}
        }
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConversionError(
            f"--text-encoder-path {folder}: no readable Gemma config.json with hidden_size and num_hidden_layers ({e})"
        ) from None
    return tuple(
        dataclasses.replace(s, info=lambda _config, _keys: gemma) if s.name == "text_projection" else s
        for s in COMPONENTS
    )


@app.command()
def verify(folder: Annotated[Path, typer.Argument(help="A model folder (or one component folder).")]) -> None:
    """Recompute every shard's sha256 and check sizes and headers against the index."""
    from mlx_ltx_convert.verify import verify as run

    try:
        checked = run(folder)
    except ValueError as e:
        raise _fail(_message(e)) from None
    for name, shards in checked:
        typer.echo(f"ok  {name} ({shards} shard{'s' if shards != 1 else ''})")


@app.command()
def info(
    sources: Annotated[list[Path], typer.Argument(help="Checkpoint, upscaler or LoRA .safetensors files.")],
) -> None:
    """Show what the files hold and what this build would convert (reads headers only)."""
    from mlx_ltx_convert.convert import plan
    from mlx_ltx_convert.report import print_plan

    try:
        plans = plan(sources)
    except ValueError as e:
        raise _fail(_message(e)) from None
    print_plan(plans)


@app.command()
def version() -> None:
    """Print the converter version."""
    from mlx_ltx_convert import __version__

    typer.echo(__version__)
