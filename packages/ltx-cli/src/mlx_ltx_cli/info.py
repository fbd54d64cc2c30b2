"""`ltx info`: what a converted model folder holds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table


class _Console(Console):
    def on_broken_pipe(self) -> None:
        raise BrokenPipeError  # not rich's exit 1: the entry point exits quietly as for any closed stdout


def print_info(folder: Path, verify: bool) -> None:
    from mlx_ltx_core.component_format import read_component, read_model_index
    from mlx_ltx_core.loader import verify_hashes

    index = read_model_index(folder)
    console = _Console()
    console.print(
        f"[bold]{folder}[/]  model {index.get('model_family')} {index.get('model_version')}  "
        f"converted by {index.get('converter', {}).get('name')} {index.get('converter', {}).get('version')}"
    )
    table = Table("component", "type", "tensors", "size", "quantization", "integrity")
    for name, entry in index.get("components", {}).items():
        parsed = read_component(folder / name)  # checks shard sizes against the index
        state = "sizes ok"
        if verify:
            verify_hashes(parsed)
            state = "sha256 ok"
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
    for source in index.get("sources", []):
        console.print(f"source {source['file']}  {source['size'] / 1e6:.1f} MB  sha256 {source['sha256'][:16]}…")
    for message in index.get("not_converted", {}).values():
        console.print(f"[yellow]not converted:[/] {message}")
