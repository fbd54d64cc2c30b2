"""Overlap on two cores: a reader thread (read + source sha256) ahead of the conversion, a writer thread behind it.

Both queues are bounded in bytes, so memory stays at a few tensors whatever the checkpoint's size. The conversion
itself (MLX quantization) runs on the calling thread; hashlib, file I/O and MLX release the GIL.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlx_ltx_convert.plan import ComponentPlan, Target
from mlx_ltx_convert.safetensors_io import ShardWriter, SourceReader, TensorInfo
from mlx_ltx_core.component_format import shard_names

BUDGET = 256 * 1024**2


class _BoundedQueue:
    """FIFO between two threads holding at most ``budget`` bytes (always at least one item)."""

    def __init__(self, budget: int) -> None:
        self._items: collections.deque = collections.deque()
        self._bytes = 0
        self._budget = budget
        self._cond = threading.Condition()
        self.closed = False

    def put(self, item: Any, nbytes: int) -> bool:
        """Blocks while full; False when the queue was closed (stop producing)."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or not self._items or self._bytes + nbytes <= self._budget)
            if self.closed:
                return False
            self._items.append((item, nbytes))
            self._bytes += nbytes
            self._cond.notify_all()
            return True

    def get(self) -> Any:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._items))
            item, nbytes = self._items.popleft()
            self._bytes -= nbytes
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def prefetch(reader: SourceReader, budget: int = BUDGET) -> Iterator[tuple[TensorInfo, np.ndarray]]:
    """Every tensor of the file in order, read and hashed by a background thread up to ``budget`` bytes ahead."""
    queue = _BoundedQueue(budget)

    def produce() -> None:
        try:
            for info in reader.header.tensors.values():
                if not queue.put((info, reader.read(info)), info.nbytes):
                    return
        except BaseException as e:  # raised on the consumer's side
            queue.put((None, e), 0)

    thread = threading.Thread(target=produce, name="ltx-convert-reader", daemon=True)
    thread.start()
    try:
        for _ in range(len(reader.header.tensors)):
            info, data = queue.get()
            if info is None:
                raise data
            yield info, data
    finally:
        queue.close()
        thread.join()


class BackgroundWriter:
    """Runs writes in submission order on one thread; ``finish`` waits and re-raises the first error."""

    def __init__(self, budget: int = BUDGET) -> None:
        self._queue = _BoundedQueue(budget)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ltx-convert-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (work := self._queue.get()) is not None:
            if self._error is None:
                try:
                    work()
                except BaseException as e:
                    self._error = e

    def submit(self, work: Callable[[], None], nbytes: int) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(work, nbytes)

    def finish(self) -> None:
        self._queue.put(None, 0)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop after the write in progress (queued writes are dropped)."""
        self._error = self._error or RuntimeError("aborted")
        self._queue.put(None, 0)
        self._thread.join()


class ComponentShards:
    """A component's shards, opened one after another as their tensors arrive in file order."""

    def __init__(self, component: ComponentPlan, folder: Path) -> None:
        self.component = component
        self.folder = folder
        self.names = shard_names(len(component.shards))
        self.shard_meta: dict[str, dict[str, Any]] = {}
        self._index = -1
        self._writer: ShardWriter | None = None

    def write(self, target: Target, arrays: list[tuple[str, np.ndarray]]) -> None:
        if self._writer is None:
            self._index += 1
            entries = [e for t in self.component.shards[self._index] for e in t.entries(self.component.group_size)]
            self._writer = ShardWriter(self.folder / self.names[self._index], entries)
        for name, array in arrays:
            self._writer.write(name, array)
        if self._writer.complete:
            self.shard_meta[self.names[self._index]] = self._writer.close()
            self._writer = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
