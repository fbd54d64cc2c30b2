"""The `ltx` command. Commands import MLX and the pipelines lazily, so `ltx --help` stays instant."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli.argv import fold
from mlx_ltx_cli.audio_only import foley
from mlx_ltx_cli.commands import decode, info, upscale
from mlx_ltx_cli.extend import extend
from mlx_ltx_cli.generate import generate
from mlx_ltx_cli.retake import retake
from mlx_ltx_cli.train import train

app = typer.Typer(
    name="ltx",
    help=(
        "LTX-2 / LTX-2.3 video with synchronized audio on MLX.\n\n"
        '  ltx generate --model tiny -p "a test"     # check the install (tiny random model, seconds)\n\n'
        '  ltx generate -p "a fox in the snow, wind howling" -o fox.mp4\n\n'
        "  ltx convert ltx-2.3-22b-distilled.safetensors -o ltx23-mlx --quantize 8"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich's help renderer costs ~0.5 s of imports on every `--help`.
    rich_markup_mode=None,
)
app.command()(generate)
app.command()(retake)
app.command()(extend)
app.command()(foley)
app.command()(decode)
app.command()(upscale)
app.command()(info)
app.command()(train)


@app.command("tiny-checkpoint")
def tiny_checkpoint(
    folder: Annotated[Path, typer.Argument(help="Folder to write the files into (created; existing files kept).")],
    model: Annotated[
        str, typer.Option(help="tiny (LTX-2.3: x2, x1.5 and temporal upscalers) or tiny-2 (LTX-2: x2, temporal).")
    ] = "tiny",
) -> None:
    """Write a tiny random LTX-2.3 (or LTX-2) in the Lightricks format (checkpoint, upscalers, distilled LoRA) and
    its tiny Gemma, to try `ltx convert` and the pipelines without downloading anything (the output is noise)."""
    from mlx_ltx_cli.errors import cli_errors

    with cli_errors():
        from mlx_ltx_cli.tiny import TINY_MODELS, write_tiny_files

        if model not in TINY_MODELS:
            raise ValueError(f"--model {model!r}: choose one of {', '.join(TINY_MODELS)}")
        files = write_tiny_files(folder, TINY_MODELS[model])
        for path in files:
            typer.echo(f"wrote {path}")
        *sources, gemma = files
        typer.echo(f"convert it: ltx convert {' '.join(map(str, sources))} -o tiny-mlx --text-encoder-path {gemma}")


@app.command()
def version() -> None:
    """Print the versions of the installed mlx-ltx packages."""
    import importlib.metadata as md

    for dist in (
        "mlx-ltx-core",
        "mlx-ltx-audio",
        "mlx-ltx-text",
        "mlx-ltx-pipelines",
        "mlx-ltx-convert",
        "mlx-ltx-cli",
        "mlx-ltx-trainer",
    ):
        typer.echo(f"{dist} {md.version(dist)}")


def _mount_convert() -> None:
    from mlx_ltx_convert.cli import app as convert_app

    app.add_typer(convert_app, name="convert", help="Convert Lightricks checkpoints into MLX model folders.")


_mount_convert()


def main() -> None:
    """Console entry point: folds variable-arity options and runs the app. Whatever escapes is one ``error:`` line
    (mlx_ltx_cli.errors: exit 2 for bad input, 1 for a bug); a closed stdout exits quietly."""
    import warnings

    from mlx_ltx_cli.errors import debugging, quiet_exit, report, show_warning, stdout_closed
    from mlx_ltx_core.signals import handle_termination

    warnings.showwarning = show_warning
    handle_termination()
    args = fold(sys.argv[1:])
    try:
        code = _run(args)
    except SystemExit as e:  # typer exits 1 itself when stdout's reader has gone (help text, `ltx version`)
        if e.code == 1 and stdout_closed():
            sys.exit(quiet_exit())
        raise
    except BrokenPipeError as e:
        sys.exit(quiet_exit() if stdout_closed() else report(e, debugging("-v" in args or "--verbose" in args)))
    except Exception as e:  # outside a command's cli_errors (e.g. `ltx convert`'s commands, a callback)
        sys.exit(report(e, debugging("-v" in args or "--verbose" in args)))
    sys.exit(code if isinstance(code, int) else 0)


def _run(args: list[str]) -> object:
    """The app in non-standalone mode; usage errors are one line and exit 2, Ctrl-C is 130 (SIGTERM 143, SIGHUP 129)."""
    from typer._click import exceptions as errors  # typer >= 0.26 vendors click

    try:
        return app(args=args, prog_name="ltx", standalone_mode=False)
    except errors.NoArgsIsHelpError as e:
        typer.echo(e.ctx.get_help() if e.ctx else str(e))
        return 0
    except errors.UsageError as e:
        path = e.ctx.command_path if e.ctx else "ltx"
        typer.echo(f"error: {e.format_message()} (see `{path} --help`)", err=True)
        return 2
    except typer.Abort as e:  # not errors.Abort: typer._click.exceptions has none (Ctrl-C raised AttributeError)
        from mlx_ltx_core import signals

        cause = e.__cause__ if isinstance(e.__cause__, KeyboardInterrupt) else KeyboardInterrupt()
        typer.echo(f"{signals.describe(cause)}: no output was written", err=True)
        return signals.exit_code(cause)
