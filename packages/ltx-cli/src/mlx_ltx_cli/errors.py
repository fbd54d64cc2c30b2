"""Bad input is one line on stderr and exit code 2; Ctrl-C is one line and 130; never a traceback (unless -v)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import typer


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def cli_errors(verbose: bool = False) -> Iterator[None]:
    """Turn the library's ValueErrors (each already one line naming the problem and the fix) into exit 2."""
    try:
        yield
    except typer.Exit:
        raise
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        if verbose or os.environ.get("LTX_DEBUG"):
            raise
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise fail(message) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: no output was written", err=True)
        sys.stderr.flush()
        raise typer.Exit(130) from None
