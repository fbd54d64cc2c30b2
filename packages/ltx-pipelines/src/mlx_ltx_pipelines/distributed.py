"""Several processes as one generation (``mlx.launch``): the ranks' group, rank-0 output, the lost-rank watchdog.

Every rank runs the same command: the transformer splits its video tokens over the ranks
(``mlx_ltx_core.model.transformer.sequence_parallel``), the video decoder spreads its chunks, and rank 0 alone
prints and writes files.
"""

from __future__ import annotations

from functools import cache

import mlx.core as mx


@cache
def launch_group() -> mx.distributed.Group:
    """The ranks ``mlx.launch`` started (its environment names the backend); one rank when not launched."""
    return mx.distributed.init()


def is_main(group: mx.distributed.Group | None = None) -> bool:
    """Rank 0 of ``group`` (default: the launch's), the one rank that prints and writes."""
    return (group or launch_group()).rank() == 0
