"""Every error is one ``error:`` line: exit 2 for bad input, 1 for a bug (with how to get the traceback), 130 for
Ctrl-C (143 SIGTERM, 129 SIGHUP), 141 quietly for a closed stdout. ``-v``/``--verbose`` or ``LTX_DEBUG=1`` print
the traceback first."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import sys
import traceback
from collections.abc import Iterator

import typer
from typer._click.exceptions import ClickException

from mlx_ltx_core import signals

# The library names Python parameters (``ParameterError.parameter``); the CLI adds its option for each.
FLAGS = {
    "lora_mode": "--lora-mode",
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
    "video_guider_params": "--stg-blocks / --stg-scale",
    "audio_guider_params": "--audio-stg-blocks / --audio-stg-scale",
}

# Errors of the input or of the machine the user controls (a path, a permission, a full disk), not of the program.
BAD_INPUT = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    MemoryError,
)
BAD_INPUT_ERRNOS = {errno.ENAMETOOLONG, errno.ELOOP, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EFBIG}
CLOSED_STDOUT = 141  # 128 + SIGPIPE: what the shell reports for `yes | head -1`, so scripts see the usual code


def debugging(verbose: bool = False) -> bool:
    return verbose or bool(os.environ.get("LTX_DEBUG"))


def exit_code(error: BaseException) -> int:
    """2 for bad input (the user can fix it), 1 for an internal error (a bug)."""
    if isinstance(error, BAD_INPUT) or (isinstance(error, OSError) and error.errno in BAD_INPUT_ERRNOS):
        return 2
    return 1


def message_of(error: BaseException) -> str:
    """The error's first line, with the CLI option of the parameter it names (if any); an OSError names its file."""
    if isinstance(error, MemoryError):
        return "out of memory; try a smaller --height/--width or --num-frames, --quantize 8, or --tiling aggressive"
    if isinstance(error, OSError) and not isinstance(error, ValueError) and error.strerror:
        files = " -> ".join(str(f) for f in (error.filename, error.filename2) if f is not None)
        return f"{files}: {error.strerror.lower()}" if files else error.strerror.lower()
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    flag = FLAGS.get(getattr(error, "parameter", ""))
    return f"{message} ({flag})" if flag else message


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def report(error: BaseException, verbose: bool = False) -> int:
    """Print the error (after its traceback when debugging) as one ``error:`` line; returns the exit code."""
    code = exit_code(error)
    if debugging(verbose):
        traceback.print_exception(error)
    if code == 2:
        message = message_of(error)
    else:
        how = "see the traceback above" if debugging(verbose) else "rerun with LTX_DEBUG=1 for the traceback"
        message = f"internal error ({type(error).__name__}: {message_of(error)}); this is a bug: {how} and report it"
    typer.echo(f"error: {message}", err=True)
    return code


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` for the CLI: one ``warning:`` line on stderr (no file, line or category)."""
    typer.echo(f"warning: {message}", err=True)


def stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (`ltx info tiny | head -1`), not some other broken pipe."""
    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno() if sys.__stdout__ else 1, select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def quiet_exit() -> int:
    """Point stdout at /dev/null so the interpreter's flush at shutdown prints nothing; returns the exit code."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return CLOSED_STDOUT


@contextlib.contextmanager
def cli_errors(verbose: bool = False) -> Iterator[None]:
    """Inside a command: the library's ValueErrors (each one line naming the problem and the fix) → exit 2, an error
    naming a Python parameter gets its option added; anything else → one line saying it is a bug, exit 1."""
    try:
        yield
    except (typer.Exit, ClickException):
        raise
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM / SIGHUP (mlx_ltx_core.signals): the writers cleaned up
        typer.echo(f"{signals.describe(e)}: no output was written", err=True)
        sys.stderr.flush()
        raise typer.Exit(signals.exit_code(e)) from None
    except Exception as e:
        if isinstance(e, BrokenPipeError) and stdout_closed():
            raise typer.Exit(quiet_exit()) from None
        raise typer.Exit(report(e, verbose)) from None
