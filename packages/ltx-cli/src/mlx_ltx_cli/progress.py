"""One progress line per stage (text, stage 1, upsample, stage 2, audio, decode tiles, h264 and mux frames) with
steps, ETA and peak memory, and a closing summary. `--quiet` prints nothing but errors; without a terminal, one
plain line per stage (with `-v`, one per step with its ETA)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text


def peak_memory_gb() -> float:
    import mlx.core as mx

    return mx.get_peak_memory() / 1e9


class _PeakMemory(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"peak {peak_memory_gb():.2f} GB", style="dim")


@dataclass
class StageReporter:
    """The pipelines' ``progress(stage, done, total)`` callback, rendering with rich."""

    quiet: bool = False
    verbose: bool = False
    console: Console = field(default_factory=lambda: Console(stderr=True))
    # Without a terminal, stage lines are a log on stdout: stderr carries nothing but the error line.
    log: Console = field(default_factory=Console)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self._first: dict[str, int] = {}  # the count a stage started from (the mux starts at the frames encoded)
        self._shown: dict[str, int] = {}  # the last count printed (plain lines: once per count)
        self._created = time.perf_counter()  # the summary's total: the whole run, loading between stages included
        if not self.quiet and self.console.is_terminal:
            columns = (
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                _PeakMemory(),
            )
            self._progress = Progress(*columns, console=self.console)

    def __enter__(self) -> StageReporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage not in self._started:
            self._started[stage], self._first[stage] = now, done
            if self._progress is not None:
                self._tasks[stage] = self._progress.add_task(stage, total=total)
        if self._progress is not None:
            self._progress.update(self._tasks[stage], completed=done, total=total)
        self.timings[stage] = now - self._started[stage]
        if self._progress is not None or self.quiet or self._shown.get(stage) == done:
            return
        if done == total:
            self.log.print(f"{stage}: {total}/{total} in {self.timings[stage]:.1f} s")
        elif self.verbose:
            self.log.print(f"{stage}: {done}/{total}{self._eta(stage, done, total)}")
        self._shown[stage] = done

    def _eta(self, stage: str, done: int, total: int) -> str:
        """The plain line's ETA (``, ETA 3.2 s``) from the stage's rate so far; nothing before its first step."""
        progressed, elapsed = done - self._first[stage], self.timings[stage]
        if progressed <= 0 or elapsed <= 0 or done >= total:
            return ""
        return f", ETA {elapsed / progressed * (total - done):.1f} s"

    def summary(self, output: str, extra: dict[str, str] | None = None) -> None:
        if self.quiet:
            return
        out = self.console if self._progress is not None else self.log
        table = Table("stage", "seconds", show_edge=False)
        for stage, seconds in self.timings.items():
            table.add_row(stage, f"{seconds:.1f}")
        table.add_row("total", f"{time.perf_counter() - self._created:.1f}")
        out.print(table)
        out.print(f"wrote {output}", soft_wrap=True, markup=False, highlight=False)  # whole, however long the path
        details = {"peak memory": f"{peak_memory_gb():.2f} GB", **(extra or {})}
        out.print("  ".join(f"{k}: {v}" for k, v in details.items()))
