"""What the CLI prints: a progress bar while converting, the plan (`info`) and the summary (rich tables)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from mlx_ltx_convert.convert import ConversionReport
from mlx_ltx_convert.plan import FilePlan, not_converted_message

_console = Console()


@contextlib.contextmanager
def progress_bar(paths: list[Path]) -> Iterator[Callable[[int], None]]:
    """A byte-count progress bar over all inputs (on a terminal's stderr, gone when done)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda n: None
        return
    total = sum(p.stat().st_size for p in paths if p.exists())
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("converting", total=total)
        yield lambda n: bar.advance(task, n)


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _quantization(block: dict | None) -> str:
    if not block:
        return "-"
    layers = sum(isinstance(v, dict) for v in block.values())
    extra = f", {layers} layers overridden" if layers else ""
    return f"{block['bits']}-bit g{block['group_size']} ({block.get('recipe', 'default')}{extra})"


def print_report(report: ConversionReport) -> None:
    table = Table("component", "from", "tensors", "size", "quantization", title=str(report.output))
    for folder, c in report.index["components"].items():
        table.add_row(folder, c["source"], str(c["tensors"]), _gb(c["size"]), _quantization(c["quantization"]))
    _console.print(table)
    for message in report.index["not_converted"].values():
        _console.print(f"[yellow]not converted:[/] {message}")
    rate = report.bytes_read / max(report.seconds, 1e-9) / 1e6
    _console.print(
        f"read {_gb(report.bytes_read)}, wrote {_gb(report.bytes_written)} in {report.seconds:.1f} s ({rate:.0f} MB/s)"
    )


def print_plan(plans: list[FilePlan]) -> None:
    for plan in plans:
        s = plan.source
        version = s.model_version or "no model_version"
        _console.print(
            f"[bold]{s.name}[/]: {s.kind}, {version}, {s.family or 'family unknown'}, {len(s.header.tensors)} tensors"
        )
        table = Table("component", "folder", "tensors", "size")
        for c in plan.components:
            table.add_row(c.spec.name, c.folder, str(len(c.targets)), _gb(c.nbytes()))
        _console.print(table)
        for what in plan.not_converted:
            _console.print(f"[yellow]not converted:[/] {not_converted_message(plan, what)}")
        if plan.ignored:
            _console.print(f"ignored: {len(plan.ignored)} tensors (e.g. {plan.ignored[0]})")
