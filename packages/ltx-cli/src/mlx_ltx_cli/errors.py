"""Bad input is one line on stderr and exit code 2; Ctrl-C is one line and 130; never a traceback (unless -v)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import typer

# The library names Python parameters (``ParameterError.parameter``); the CLI adds its option for each.
FLAGS = {
    "text_encoder_path": "--text-encoder-path or --text-encoder-repo",
    "loras": "--lora-path",
    "distilled_lora": "--distilled-lora",
    "video_conditioning": "--video-conditioning",
    "images": "--image",
    "source": "--input",
    "prompt": "--prompt",
    "overwrite": "--overwrite",
    "model_path": "--model",
    "revision": "--revision",
}


def message_of(error: BaseException) -> str:
    """The error's first line, with the CLI option of the parameter it names (if any)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    flag = FLAGS.get(getattr(error, "parameter", ""))
    return f"{message} ({flag})" if flag else message


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def cli_errors(verbose: bool = False) -> Iterator[None]:
    """Turn the library's ValueErrors (each already one line naming the problem and the fix) into exit 2; an error
    naming a Python parameter gets its option added."""
    try:
        yield
    except typer.Exit:
        raise
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        if verbose or os.environ.get("LTX_DEBUG"):
            raise
        raise fail(message_of(e)) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: no output was written", err=True)
        sys.stderr.flush()
        raise typer.Exit(130) from None
