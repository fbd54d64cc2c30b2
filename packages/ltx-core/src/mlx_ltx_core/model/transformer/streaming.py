"""Low-memory mode: the blocks' weights stay in the component folder and are read a group of blocks at a time in
each forward, then freed (docs/low_memory.md). No reference counterpart: the reference keeps every block resident.

``mx.load`` of a safetensors shard reads only its header; a tensor's bytes are read (``pread``, not ``mmap``) when
the array is evaluated and freed when the last reference drops. So each group loads its shards afresh: the arrays of
the previous forward were evaluated and would otherwise keep their bytes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import cast

import mlx.core as mx
from mlx.utils import tree_map, tree_unflatten

from mlx_ltx_core.component_format import ComponentFolder, read_component
from mlx_ltx_core.guidance.perturbations import BatchedPerturbationConfig
from mlx_ltx_core.loader import apply_quantization, cast_weights, check_strict, load_weights
from mlx_ltx_core.model.transformer.loading import COMPONENT, _build
from mlx_ltx_core.model.transformer.model import LTXModel, run_blocks
from mlx_ltx_core.model.transformer.transformer import BasicAVTransformerBlock
from mlx_ltx_core.model.transformer.transformer_args import TransformerArgs

BLOCKS = "transformer_blocks."
# A group's weights before the blocks see them: e.g. LoRA fusion of the modules the group holds (full MLX keys).
Transform = Callable[[dict[str, mx.array]], dict[str, mx.array]]


def block_of(key: str) -> int | None:
    """``transformer_blocks.7.attn1.to_q.weight`` → 7; None for a resident (non-block) key."""
    return int(key[len(BLOCKS) :].split(".", 1)[0]) if key.startswith(BLOCKS) else None


class BlockStream:
    """``LTXModel.block_stream``: the block loop, each group's weights read from ``folder`` as the loop reaches it.

    While a group runs the next one is read on a second stream (``prefetch``), so at most two groups' weights are
    held; after a group its arrays are dropped and MLX's buffer cache is cleared.
    """

    def __init__(
        self,
        folder: ComponentFolder,
        blocks_per_group: int = 1,
        dtype: mx.Dtype | None = None,
        transform: Transform | None = None,
        prefetch: bool = True,
    ):
        if blocks_per_group < 1:
            raise ValueError(f"blocks_per_group={blocks_per_group} must be >= 1")
        self.folder, self.blocks_per_group, self.dtype = folder, blocks_per_group, dtype
        self.transform, self.prefetch = transform, prefetch
        self._keys: dict[int, dict[str, list[str]]] = {}  # block → shard → keys
        for key, shard in folder.index["weight_map"].items():
            if (block := block_of(key)) is not None:
                self._keys.setdefault(block, {}).setdefault(shard, []).append(key)
        self._stream = _read_stream() if prefetch else None
        self._placeholders: dict[int, dict] = {}  # block → its placeholder tree, made at its first swap

    def groups(self, num_blocks: int) -> list[range]:
        g = self.blocks_per_group
        return [range(i, min(i + g, num_blocks)) for i in range(0, num_blocks, g)]

    def weights(self, group: range) -> dict[str, mx.array]:
        """The group's weights (full keys) read, cast and transformed lazily: nothing is read until evaluated."""
        with mx.stream(self._stream or mx.default_stream(mx.default_device())):
            out: dict[str, mx.array] = {}
            for shard in sorted({s for b in group for s in self._keys.get(b, {})}):
                loaded = _lazy_shard(self.folder, shard)
                out.update({k: loaded[k] for b in group for k in self._keys.get(b, {}).get(shard, ())})
            out = cast_weights(out, self.dtype)
            return self.transform(out) if self.transform is not None else out

    def __call__(
        self,
        blocks: Sequence[BasicAVTransformerBlock],
        video: TransformerArgs | None,
        audio: TransformerArgs | None,
        perturbations: BatchedPerturbationConfig,
        intermediates: dict[str, mx.array] | None = None,
    ) -> tuple[TransformerArgs | None, TransformerArgs | None]:
        groups = self.groups(len(blocks))
        upcoming = self._fetch(groups[0])
        for n, group in enumerate(groups):
            weights, upcoming = upcoming, {}
            held = [blocks[i] for i in group]
            saved = [self._swap(block, weights) for block in held]
            video, audio = run_blocks(held, video, audio, perturbations, intermediates)
            outputs = [s.x for s in (video, audio) if s is not None]
            mx.async_eval(outputs)
            if n + 1 < len(groups):
                upcoming = self._fetch(groups[n + 1])
            mx.eval(outputs)
            for block, placeholders in zip(held, saved, strict=True):
                block.update(placeholders)
            del weights, saved
            mx.clear_cache()
        return video, audio

    def _swap(self, block: BasicAVTransformerBlock, weights: dict[str, mx.array]) -> dict:
        """Give ``block`` its weights from ``weights`` (full keys); returns the placeholders that take them back."""
        prefix = f"{BLOCKS}{block.idx}."
        mine = tree_unflatten([(k[len(prefix) :], v) for k, v in weights.items() if k.startswith(prefix)])
        block.update(mine)
        if block.idx not in self._placeholders:
            self._placeholders[block.idx] = tree_map(_placeholder, mine)
        return self._placeholders[block.idx]

    def _fetch(self, group: range) -> dict[str, mx.array]:
        weights = self.weights(group)
        if self.prefetch:
            mx.async_eval(list(weights.values()))
        return weights

    def group_bytes(self, num_blocks: int) -> int:
        """The largest group's bytes as stored (read from the shards' headers)."""
        sizes = stored_bytes(self.folder)
        per_block = [sum(n for k, n in sizes.items() if block_of(k) == b) for b in range(num_blocks)]
        return max(sum(per_block[b] for b in g) for g in self.groups(num_blocks))


def stored_bytes(folder: ComponentFolder) -> dict[str, int]:
    """Each tensor's bytes as stored, from the shards' headers (no tensor is read)."""
    return {k: v.nbytes for shard in folder.shards for k, v in _lazy_shard(folder, shard).items()}


def streamed_weight_bytes(folder: ComponentFolder, blocks_per_group: int = 1, prefetch: bool = True) -> int:
    """The weights a low-memory transformer holds at most, as stored: the resident part plus the group that runs
    and (with ``prefetch``) the next one."""
    sizes = stored_bytes(folder)
    num_blocks = 1 + max((b for k in sizes if (b := block_of(k)) is not None), default=-1)
    resident = sum(n for k, n in sizes.items() if block_of(k) is None)
    if num_blocks == 0:
        return resident
    return resident + (2 if prefetch else 1) * BlockStream(folder, blocks_per_group).group_bytes(num_blocks)


@functools.cache
def _read_stream() -> mx.Stream:
    """The CPU stream the prefetched reads (and their cast / LoRA fusion) run on, beside the compute."""
    return mx.new_stream(mx.cpu)


def _lazy_shard(folder: ComponentFolder, shard: str) -> dict[str, mx.array]:
    # mx.load's stub unions every format it reads; a .safetensors file loads as a dict (its header alone, here).
    return cast(dict[str, mx.array], mx.load(str(folder.path / shard)))


def _placeholder(value: mx.array, dtype: mx.Dtype | None = None) -> mx.array:
    """``value``'s shape and dtype as a broadcast scalar: one element even if evaluated."""
    return mx.broadcast_to(mx.zeros((), dtype or value.dtype), value.shape)


def load_streamed_transformer(
    path: str | os.PathLike,
    *,
    dtype: mx.Dtype | None = None,
    blocks_per_group: int = 1,
    transform: Transform | None = None,
    prefetch: bool = True,
) -> LTXModel:
    """``LTXModel`` whose non-block weights are loaded (strict, quantized as recorded, cast to ``dtype``, then
    ``transform``-ed) and whose blocks hold placeholders: each forward reads them ``blocks_per_group`` at a time."""
    folder = read_component(path, COMPONENT)
    model = _build(folder)
    weights = load_weights(folder)  # lazy: the shards' headers only
    apply_quantization(model, folder.quantization, weights)
    check_strict(model, weights, folder.path)
    resident = cast_weights({k: v for k, v in weights.items() if block_of(k) is None}, dtype)
    if transform is not None:
        resident = transform(resident)
    model.load_weights([*resident.items(), *_placeholders(weights, dtype).items()], strict=True)
    model.eval()
    mx.eval(list(resident.values()))
    model.block_stream = BlockStream(folder, blocks_per_group, dtype, transform, prefetch)
    return model


def _placeholders(weights: dict[str, mx.array], dtype: mx.Dtype | None) -> dict[str, mx.array]:
    """A placeholder for each block weight, in the dtype it will be cast to."""
    floating = lambda v: dtype is not None and mx.issubdtype(v.dtype, mx.floating)  # noqa: E731
    return {k: _placeholder(v, dtype if floating(v) else None) for k, v in weights.items() if block_of(k) is not None}
