"""Run a conversion: stream every input tensor once, in file order, into its component folders; publish atomically.

Memory stays at a few tensors (read ahead, converting, queued for writing; both queues bounded in bytes). Every byte
read is hashed for the source's sha256 and every byte written for its shard's. The model folder is written under a
hidden ``.<name>.<pid>.partial`` sibling and renamed into place last (``publish.py``: an existing output is replaced
only when it is a model folder or empty, through a journal), so an interrupted conversion never leaves a folder that
loads, and a killed replacement leaves the old model or the new one. The output is claimed
(``mlx_ltx_core.output_claim``) for the whole run: a second conversion to it fails at once, naming this one.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlx_ltx_convert.components import COMPONENTS, ComponentSpec
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.layouts.video_vae import fold_gate
from mlx_ltx_convert.model_folder import check_inputs, model_index, write_component_files
from mlx_ltx_convert.plan import ComponentPlan, FilePlan, Target, join_parts, plan_file
from mlx_ltx_convert.publish import check_output, partial_dir, publish, recover
from mlx_ltx_convert.quantize import QuantizeOptions, quantize_weight
from mlx_ltx_convert.safetensors_io import SourceReader, bf16_to_f32, dequantize_fp8, read_header
from mlx_ltx_convert.sources import classify
from mlx_ltx_convert.streaming import BackgroundWriter, ComponentShards, prefetch
from mlx_ltx_core.component_format import write_model_index
from mlx_ltx_core.output_claim import claimed

Progress = Callable[[int], None]


@dataclass
class ConversionReport:
    """What was written, for the CLI summary."""

    output: Path
    index: dict[str, Any]
    bytes_read: int = 0
    bytes_written: int = 0
    seconds: float = 0.0


def plan(
    sources: Sequence[str | os.PathLike],
    *,
    quantize: QuantizeOptions | None = None,
    dtype: str = "keep",
    max_shard_bytes: int = 5 * 1024**3,
    components: Sequence[ComponentSpec] = COMPONENTS,
) -> list[FilePlan]:
    """Read and check every header and plan the whole conversion (reads no weights). Several files may make one
    model (LTX-2.5's split release: transformer, VAE, audio VAE, … files); a component split over files is joined."""
    classified = [classify(read_header(s)) for s in sources]
    kwargs = {"quantize": quantize, "dtype": dtype, "max_shard_bytes": max_shard_bytes}
    plans = [plan_file(s, components=components, **kwargs) for s in classified]
    join_parts(plans, max_shard_bytes)
    check_inputs(plans, quantize)
    return plans


def convert(
    sources: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    quantize: QuantizeOptions | None = None,
    dtype: str = "keep",
    overwrite: bool = False,
    max_shard_bytes: int = 5 * 1024**3,
    components: Sequence[ComponentSpec] = COMPONENTS,
    origins: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ConversionReport:
    """Convert Lightricks files (a checkpoint, upscalers, LoRAs) into one model folder at ``output``.

    ``origins`` maps a file name to where it came from (e.g. ``hf://Lightricks/LTX-2.3``) for model_index.json.
    """
    output = Path(output)
    check_output(output, overwrite)
    plans = plan(sources, quantize=quantize, dtype=dtype, max_shard_bytes=max_shard_bytes, components=components)
    start = time.perf_counter()
    output.absolute().parent.mkdir(parents=True, exist_ok=True)
    with claimed([output], "ltx convert"):  # a second converter to the same folder fails here, naming this one
        recover(output)
        check_output(output, overwrite)  # again, now that no other converter writes it
        _check_disk_space(plans, output)
        tmp = partial_dir(output)
        try:
            hashes = _write_files(plans, tmp, progress)
            index = model_index(plans, hashes, origins or {}, dtype)
            write_model_index(tmp, index)
            publish(tmp, output)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    written = sum(c["size"] for c in index["components"].values())
    read = sum(p.source.header.file_size for p in plans)
    return ConversionReport(output, index, read, written, time.perf_counter() - start)


def _check_disk_space(plans: list[FilePlan], output: Path) -> None:
    need = sum(c.nbytes() for p in plans for c in p.components) + 64 * 1024**2
    parent = next(p for p in output.absolute().parents if p.exists())
    free = shutil.disk_usage(parent).free
    if need > free:
        raise ConversionError(
            f"{parent}: the conversion writes {need / 1e9:.1f} GB but {free / 1e9:.1f} GB are free; "
            "free space or choose another output",
            "output",
        )


def _write_files(plans: list[FilePlan], tmp: Path, progress: Progress | None) -> dict[str, str]:
    """Stream every input file, in order, into the components' shards; returns each file's sha256."""
    components = [c for p in plans for c in p.components]
    for component in components:
        (tmp / component.folder).mkdir(parents=True)
    shards = {c.folder: ComponentShards(c, tmp / c.folder) for c in components}
    try:
        hashes = {p.source.name: _write_file(p, components, shards, progress) for p in plans}
        for component in components:
            write_component_files(component, tmp / component.folder, shards[component.folder].shard_meta)
        return hashes
    finally:
        for component_shards in shards.values():
            component_shards.abort()


def _write_file(
    plan: FilePlan, components: list[ComponentPlan], shards: dict[str, ComponentShards], progress: Progress | None
) -> str:
    """Stream one input file into the shards of every component it feeds; returns the file's sha256."""
    tensors = plan.source.header.tensors
    consumers: dict[str, list[tuple[ComponentPlan, Target]]] = {}
    for component in components:
        for target in component.targets:
            if tensors.get(target.tensor.name) is target.tensor:  # this file's tensor (joined parts: several files)
                consumers.setdefault(target.tensor.name, []).append((component, target))
    reader = SourceReader(plan.source.header)
    writer = BackgroundWriter()
    try:
        for info, data in prefetch(reader):
            for component, target in consumers.get(info.name, []):
                arrays = convert_tensor(component, target, data, plan.scales, plan.gates)
                nbytes = sum(a.nbytes for _, a in arrays)
                writer.submit(functools.partial(shards[component.folder].write, target, arrays), nbytes)
            del data
            if progress is not None:
                progress(info.nbytes)
        writer.finish()
        return reader.sha256()
    finally:
        writer.abort()
        reader.close()


def convert_tensor(
    component: ComponentPlan,
    target: Target,
    data: np.ndarray,
    scales: dict[str, np.ndarray],
    gates: dict[str, np.ndarray] | None = None,
) -> list[tuple[str, np.ndarray]]:
    """Source tensor → the arrays written: fp8 dequantization, row block, gate fold, layout change, dtype cast,
    quantization."""
    dtype = target.tensor.dtype
    if dtype == "F8_E4M3":
        data, dtype = dequantize_fp8(data, scales.get(target.tensor.name)), "F32"
    if target.part is not None:
        index, count = target.part
        data = np.split(data, count)[index]
    if target.gate is not None:
        data = _fold_gate(data, dtype, (gates or {})[target.gate])
    data = component.spec.to_mlx(target.key, data)
    if tuple(data.shape) != target.shape:
        raise RuntimeError(f"{target.key}: layout change gave {data.shape}, planned {target.shape}")
    if target.bits is None:
        return [(target.key, data if dtype == target.dtype else _cast(data, dtype, target.dtype))]
    weight = _to_mx(data, dtype)
    packed, scales_, biases = quantize_weight(
        weight.astype(_mx_dtypes()[target.dtype]), target.bits, component.group_size
    )
    path = target.key.removesuffix(".weight")
    return [(target.key, packed), (f"{path}.scales", _from_mx(scales_)), (f"{path}.biases", _from_mx(biases))]


_MX: dict[str, Any] = {}


def _mx_dtypes() -> dict[str, Any]:
    if not _MX:
        import mlx.core as mx

        _MX.update({"BF16": mx.bfloat16, "F16": mx.float16, "F32": mx.float32})
    return _MX


def _to_mx(data: np.ndarray, dtype: str) -> Any:
    import mlx.core as mx

    array = mx.array(np.ascontiguousarray(data))
    return array.view(mx.bfloat16) if dtype == "BF16" else array


def _from_mx(array: Any) -> np.ndarray:
    import mlx.core as mx

    if array.dtype == mx.bfloat16:
        array = array.view(mx.uint16)
    return np.array(array)


def _fold_gate(data: np.ndarray, dtype: str, gate: np.ndarray) -> np.ndarray:
    """``g[:, None]·W`` (``g·b``) in float32 as the reference folds static gates, back in the tensor's dtype."""
    if dtype != "BF16":  # numpy floats
        return fold_gate(data, gate)
    return _cast(fold_gate(bf16_to_f32(data), gate), "F32", "BF16")


def _cast(data: np.ndarray, source: str, target: str) -> np.ndarray:
    """Float cast with MLX's round-to-nearest-even (numpy has no bfloat16)."""
    return _from_mx(_to_mx(data, source).astype(_mx_dtypes()[target]))
