"""The precomputed dataset (the reference's layout, trainer.md §2.9) stored as safetensors.

``<root>/`` (or ``<root>/.precomputed/``) holds one directory per data source named by the strategy
(``conditions``, ``latents``, ``audio_latents``, ``reference_latents``, ``video_masks``, …); a sample is a
relative path present in every source, files sorted by path; the primary source is ``latents`` when present,
else the first one. Each file holds the reference's dict keys in the reference's layout (video latents
``[C, F', H', W']``, audio ``[8, T, 16]``, masks ``[F', H', W']`` / ``[T]``), scalars (``num_frames``, ``height``,
``width``, ``fps``, …) in the safetensors metadata. Reading turns them into MLX layout. The reference's ``.pt``
files are pickles: they are not read here (a restricted converter is separate work).

Batches: the order is a permutation per epoch from ``numpy.random.default_rng([seed, epoch])``, drop-last
(the reference's torch DataLoader order cannot be reproduced); batch ``i`` is a pure function of ``i`` so a
resumed run sees the same batches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np

SUFFIX = ".safetensors"
PRECOMPUTED = ".precomputed"


def _scalar(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def read_sample_file(path: Path) -> dict[str, Any]:
    """Arrays as MLX arrays, metadata scalars as numbers."""
    loaded = mx.load(str(path), return_metadata=True)
    assert isinstance(loaded, tuple)
    arrays, meta = loaded
    out: dict[str, Any] = dict(arrays)
    for k, v in (meta or {}).items():
        try:
            out[k] = _scalar(v)
        except ValueError:
            out[k] = v
    return out


def write_sample_file(path: str | os.PathLike, arrays: Mapping[str, Any], scalars: Mapping[str, Any]) -> None:
    """One sample file of the layout (atomic); arrays in the reference's layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{SUFFIX}")
    try:
        mx.save_safetensors(
            str(tmp), {k: mx.array(v) for k, v in arrays.items()}, metadata={k: str(v) for k, v in scalars.items()}
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _to_mlx(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    lat = entry.get("latents")
    if lat is not None:
        if lat.ndim == 4:  # video [C, F, H, W] → [F, H, W, C]
            out["latents"] = lat.transpose(1, 2, 3, 0)
        elif lat.ndim == 3:  # audio [C, T, F] → [T, F, C]
            out["latents"] = lat.transpose(1, 2, 0)
        else:
            raise ValueError(f"{key}: latents of shape {tuple(lat.shape)}; expected [C, F, H, W] or [C, T, F]")
    return out


class PrecomputedDataset:
    """Samples of a precomputed root for ``sources`` (directory → batch key, the strategy's data sources)."""

    def __init__(self, root: str | os.PathLike, sources: Mapping[str, str]):
        root = Path(root)
        if (root / PRECOMPUTED).is_dir():
            root = root / PRECOMPUTED
        self.root, self.sources = root, dict(sources)
        files: dict[str, set[str]] = {}
        for directory in self.sources:
            base = root / directory
            if not base.is_dir():
                raise FileNotFoundError(f"data source '{directory}' does not exist under {root}")
            files[directory] = {str(p.relative_to(base)) for p in base.rglob(f"*{SUFFIX}")}
        primary = "latents" if "latents" in files else next(iter(files))
        self.items = sorted(rel for rel in files[primary] if all(rel in f for f in files.values()))
        if not self.items:
            raise ValueError(f"no sample under {root} is present in every source ({', '.join(self.sources)})")

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, index: int) -> dict[str, Any]:
        rel = self.items[index]
        return {key: _to_mlx(key, read_sample_file(self.root / d / rel)) for d, key in self.sources.items()}

    def batches_per_epoch(self, batch_size: int) -> int:
        n = len(self) // batch_size
        if n == 0:
            raise ValueError(f"{len(self)} samples cannot fill one batch of {batch_size} (drop-last)")
        return n

    def batch(self, index: int, batch_size: int, seed: int) -> tuple[dict[str, Any], bool]:
        """(batch number ``index`` of the run, whether it is the last batch of its epoch)."""
        per_epoch = self.batches_per_epoch(batch_size)
        epoch, position = divmod(index, per_epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(self))
        picks = order[position * batch_size : (position + 1) * batch_size]
        return collate([self.sample(int(i)) for i in picks]), position == per_epoch - 1


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack arrays along a new batch axis; scalars stay those of the first sample (a batch shares one bucket)."""
    out: dict[str, Any] = {}
    for key, first in samples[0].items():
        entry = {}
        for name, value in first.items():
            if isinstance(value, mx.array):
                shapes = {tuple(s[key][name].shape) for s in samples}
                if len(shapes) > 1:
                    raise ValueError(f"{key}.{name}: samples of different shapes {sorted(shapes)} in one batch")
                entry[name] = mx.stack([s[key][name] for s in samples])
            else:
                entry[name] = value
        out[key] = entry
    return out
