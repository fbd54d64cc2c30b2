"""The `ltx` command. Each command imports MLX and the pipelines lazily so `ltx --help` stays instant."""

import typer

app = typer.Typer(
    name="ltx",
    help="LTX-2 / LTX-2.3 video (with synchronized audio) generation on MLX.",
    no_args_is_help=True,
    add_completion=False,
)


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
    ):
        typer.echo(f"{dist} {md.version(dist)}")
