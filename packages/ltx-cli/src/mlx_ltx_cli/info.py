"""`ltx info`: what a converted model folder holds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table


class _Console(Console):
    def on_broken_pipe(self) -> None:
        raise BrokenPipeError  # not rich's exit 1: the entry point exits quietly as for any closed stdout


def print_checkpoint_info(path: Path) -> None:
    """A Lightricks file's components and what this build converts, from its header (as `ltx convert info`)."""
    from mlx_ltx_convert.convert import plan
    from mlx_ltx_convert.report import print_plan

    print_plan(plan([path]))


def _integrity(folder: Path, verify: bool) -> tuple[str, str | None]:
    """("sizes ok" | "sha256 ok", None), or ("BAD", the first problem of this component)."""
    from mlx_ltx_core.component_format import ComponentError
    from mlx_ltx_core.loader import check_component

    try:
        check_component(folder, hashes=verify)  # the check of `ltx-convert verify`: sizes, shard headers, sha256
    except ComponentError as e:
        return "[red]BAD[/]", str(e)
    return ("sha256 ok" if verify else "sizes ok"), None


def print_info(folder: Path, verify: bool) -> list[str]:
    """Print the table (every component checked, each bad one marked); returns the problems found."""
    from mlx_ltx_core.component_format import read_model_index
    from mlx_ltx_core.loader import model_components

    model_components(folder)  # an index listing no components (`{}`) is refused, as `ltx-convert verify` does
    index = read_model_index(folder)
    console = _Console()
    console.print(
        f"[bold]{folder}[/]  model {index.get('model_family')} {index.get('model_version')}  "
        f"converted by {index.get('converter', {}).get('name')} {index.get('converter', {}).get('version')}"
    )
    table = Table("component", "type", "tensors", "size", "quantization", "integrity")
    table.columns[0].overflow = "fold"  # names whole (a narrow pipe is 80 columns)
    problems: list[str] = []
    for name, entry in index.get("components", {}).items():
        state, problem = _integrity(folder / name, verify)
        problems += [f"{name}: {problem}"] if problem else []
        q = entry.get("quantization")
        quant = f"{q['bits']}-bit g{q['group_size']}" if q else "-"
        table.add_row(
            name,
            entry.get("component", "?"),
            str(entry.get("tensors", "?")),
            f"{entry.get('size', 0) / 1e6:.1f} MB",
            quant,
            state,
        )
    console.print(table)
    for problem in problems:  # below the table: the whole message, whatever the terminal's width
        console.print(f"[red]bad[/] {escape(problem)}", soft_wrap=True)
    for source in index.get("sources", []):
        console.print(f"source {source['file']}  {source['size'] / 1e6:.1f} MB  sha256 {source['sha256'][:16]}…")
    for message in index.get("not_converted", {}).values():
        console.print(f"[yellow]not converted:[/] {message}")
    return problems
