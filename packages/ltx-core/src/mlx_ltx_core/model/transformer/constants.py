"""Per-stage constants, computed once per stage instead of once per step (no reference counterpart).

Within a denoising stage the positions, prompt contexts and masks are the same arrays at every step; only the
latents and sigmas change. Whatever is computed from them alone (RoPE tables, the projected context, attention
biases, the guidance batch's stacked copies) is kept here, keyed by the identity of the arrays it comes from. An
entry holds its source arrays, so no id is reused while it is cached; dropping the cache at the end of the stage
frees everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import mlx.core as mx
from mlx.utils import tree_flatten

T = TypeVar("T")


class ConstantsCache:
    """``get(kind, sources, compute)``: ``compute()`` the first time ``kind`` is asked of these very arrays."""

    def __init__(self, text_kv: bool = True) -> None:
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
        self.hits = self.misses = 0
        # Also each block's text cross-attention K/V, where the context does not depend on the step (LTX-2, and
        # LTX-2.3/2.5 with use_prompt_adaln_single false). False: computed at every step (tests, benchmarks).
        self.text_kv = text_kv

    def get(self, kind: str, sources: tuple[Any, ...], compute: Callable[[], T]) -> T:
        key = (kind, *(id(s) for s in sources))
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            return entry[1]
        self.misses += 1
        value = compute()
        self._entries[key] = (sources, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def nbytes(self, kind_suffix: str = "") -> int:
        """Bytes of the cached values whose kind ends with ``kind_suffix`` (all by default)."""
        values = [v for k, (_, v) in self._entries.items() if k[0].endswith(kind_suffix)]
        return sum(a.nbytes for _, a in tree_flatten(values) if isinstance(a, mx.array))


def cached(cache: ConstantsCache | None, kind: str, sources: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` through ``cache`` when there is one (inside a stage), directly otherwise."""
    return compute() if cache is None else cache.get(kind, sources, compute)
