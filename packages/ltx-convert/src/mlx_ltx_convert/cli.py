"""The `ltx-convert` command (also mounted as `ltx convert`). Heavy imports stay inside commands."""

import typer

app = typer.Typer(
    name="ltx-convert",
    help="Convert Lightricks LTX-2 / LTX-2.3 checkpoints into MLX model folders.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the converter version."""
    from mlx_ltx_convert import __version__

    typer.echo(__version__)
