"""The conversion plan, from headers alone: which component owns each tensor, its MLX key, shape, dtype and shard.

Planning reads no tensor data (only fp8 scales), so it runs on a 40 GB checkpoint in a second, checks key coverage
before anything is written, and gives the output size for the disk-space check.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from mlx_ltx_convert import prefixes
from mlx_ltx_convert.components import COMPONENTS, ComponentSpec, check_components, specs, unclaimed
from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.quantize import QuantizeOptions, packed_entries
from mlx_ltx_convert.safetensors_io import DTYPES, TensorInfo, bf16_to_f32, is_float, itemsize, read_tensor
from mlx_ltx_convert.sources import LORA, Source
from mlx_ltx_core.component_format import split_shards

DTYPE_NAMES = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}
_FP8 = "F8_E4M3"
_LORA = re.compile(re.escape(prefixes.LORA) + r"(.+)\.(lora_[AB])\.weight")


@dataclass(frozen=True)
class Target:
    """One converted tensor: component key, source tensor, shape after the layout change, output dtype, bits."""

    key: str
    tensor: TensorInfo
    shape: tuple[int, ...]
    dtype: str
    bits: int | None = None
    scale: str | None = None  # the fp8 ``weight_scale`` tensor to multiply by
    part: tuple[int, int] | None = None  # (index, count): this row block of a fused source tensor
    gate: str | None = None  # the source tensor of a static gate folded into the rows (FilePlan.gates)

    def entries(self, group_size: int) -> list[tuple[str, str, tuple[int, ...]]]:
        """(name, dtype, shape) of what is written: one tensor, or packed weight + scales + biases."""
        if self.bits is None:
            return [(self.key, self.dtype, self.shape)]
        return packed_entries(self.key, self.shape, self.bits, group_size, self.dtype)

    def nbytes(self, group_size: int) -> int:
        return sum(math.prod(shape) * itemsize(dtype) for _, dtype, shape in self.entries(group_size))


@dataclass
class ComponentPlan:
    """One component folder to write."""

    spec: ComponentSpec
    folder: str
    source: Source
    config: dict[str, Any]
    info: dict[str, Any]
    targets: list[Target]
    dropped: list[str] = field(default_factory=list)
    quantization: dict[str, Any] | None = None
    shards: list[list[Target]] = field(default_factory=list)
    more_sources: list[Source] = field(default_factory=list)  # the other files of a component split over files

    @property
    def sources(self) -> list[Source]:
        return [self.source, *self.more_sources]

    def missing_parts(self) -> list[str]:
        """Where the spec's ``parts`` this plan lacks live (empty: complete)."""
        keys = [t.key for t in self.targets]
        return [where for prefix, where in self.spec.parts if not any(k.startswith(prefix) for k in keys)]

    @property
    def group_size(self) -> int:
        return (self.quantization or {}).get("group_size", 64)

    def nbytes(self) -> int:
        return sum(t.nbytes(self.group_size) for t in self.targets)


@dataclass
class FilePlan:
    """Everything planned for one input file."""

    source: Source
    components: list[ComponentPlan]
    # what ("video-only text connector …") → (key prefixes, number of tensors) of keys no component converts
    not_converted: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # keys with no meaning after conversion (fp8 input scales, …)
    scales: dict[str, np.ndarray] = field(default_factory=dict)
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # gate tensor name -> float32 values (read at planning)
    reasons: dict[str, str] = field(default_factory=dict)  # what → why not converted (default: no spec reads it)


def output_dtype(source_dtype: str, dtype: str) -> str:
    """``dtype="keep"`` keeps float dtypes (fp8 becomes bfloat16); integers are never cast."""
    if not is_float(source_dtype):
        return source_dtype
    if dtype == "keep":
        return "BF16" if source_dtype == _FP8 else source_dtype
    if dtype not in DTYPE_NAMES:
        raise ConversionError(f"dtype={dtype!r} is not supported; use keep, {', '.join(DTYPE_NAMES)}", "dtype")
    return DTYPE_NAMES[dtype]


def plan_file(
    source: Source,
    *,
    components: Sequence[ComponentSpec] = COMPONENTS,
    quantize: QuantizeOptions | None = None,
    dtype: str = "keep",
    max_shard_bytes: int = 5 * 1024**3,
    check_models: bool = True,
) -> FilePlan:
    """Plan one file; refuses keys no LTX component has, keys two components claim, and models that disagree."""
    lora = source.kind == LORA
    plan = _plan_lora(source, dtype) if lora else _plan_components(source, components, quantize, dtype)
    for component in plan.components:
        size = functools.partial(Target.nbytes, group_size=component.group_size)
        component.shards = split_shards(component.targets, size, max_shard_bytes)
        if check_models and not component.missing_parts():  # a part of a split component: checked once joined
            check_against_model(component)
    return plan


def join_parts(plans: list[FilePlan], max_shard_bytes: int = 5 * 1024**3, check_models: bool = True) -> None:
    """Components split over files (``spec.parts``, e.g. LTX-2.5's text connectors in the transformer file and their
    projection in the text-encoder file) become one, in the first file's plan; one that still lacks a part is not
    converted, and the report names the file that holds it."""
    found: dict[str, list[tuple[FilePlan, ComponentPlan]]] = {}
    for p in plans:
        for c in p.components:
            if c.spec.parts and c.missing_parts():
                found.setdefault(c.folder, []).append((p, c))
    for parts in found.values():
        for p, c in parts[1:]:
            p.components.remove(c)
        (first_plan, first), rest = parts[0], [c for _, c in parts[1:]]
        joined = _joined(first, rest) if rest else first
        first_plan.components[first_plan.components.index(first)] = joined
        missing = joined.missing_parts()
        if missing:
            first_plan.components.remove(joined)
            what = f"{joined.spec.name} part"
            first_plan.not_converted[what] = (sorted({_part_prefix(t) for t in joined.targets}), len(joined.targets))
            first_plan.reasons[what] = f"needs {' and '.join(missing)} among the inputs"
            continue
        size = functools.partial(Target.nbytes, group_size=joined.group_size)
        joined.shards = split_shards(joined.targets, size, max_shard_bytes)
        if check_models:
            check_against_model(joined)


def _joined(first: ComponentPlan, rest: list[ComponentPlan]) -> ComponentPlan:
    every = [first, *rest]
    quantization = {k: v for c in every for k, v in (c.quantization or {}).items()} or None
    info: dict[str, Any] = {}
    for c in every:  # each part's recorded values (the transformer file's version and gemma_source_checkpoint)
        info |= {k: v for k, v in c.info.items() if v is not None and k not in info}
    return ComponentPlan(
        spec=first.spec,
        folder=first.folder,
        source=first.source,
        config=next((c.config for c in every if c.config), first.config),
        info={**first.info, **info},
        targets=[t for c in every for t in c.targets],
        dropped=[k for c in every for k in c.dropped],
        quantization=quantization,
        more_sources=[c.source for c in rest],
    )


def _part_prefix(target: Target) -> str:
    """The checkpoint key prefix of the target's top module: ``model.diffusion_model.video_embeddings_connector.``."""
    name, key = target.tensor.name, target.key
    return name[: len(name) - len(key)] + key.split(".", 1)[0] + "."


def _fp8_scales(source: Source) -> tuple[dict[str, str], list[str]]:
    """weight key → its ``weight_scale`` key, and the ``input_scale`` keys (static activation scales, unused)."""
    tensors = source.header.tensors
    nvfp4 = next((name for name in tensors if name.endswith(".weight_scale_2")), None)
    if nvfp4 is not None:  # LTX-2.5's ...-nvfp4 files: packed fp4 + fp8 block scales (the reference's nvfp4-prequant)
        raise ConversionError(
            f"{source.name}: an NVFP4 prequantized file ({nvfp4}) is not supported; convert the bf16 file instead "
            "(with --quantize 4 for a small model)"
        )
    scales, ignored = {}, []
    for name in tensors:
        if name.endswith(".input_scale"):
            ignored.append(name)
        elif name.endswith(".weight_scale"):
            weight = name.removesuffix("_scale")
            if weight not in tensors or tensors[weight].dtype != _FP8:
                raise ConversionError(f"{source.header.path}: {name} scales no float8 weight; corrupted fp8 file?")
            scales[weight] = name
    return scales, ignored


def _plan_components(
    source: Source, components: Sequence[ComponentSpec], quantize: QuantizeOptions | None, dtype: str
) -> FilePlan:
    check_components(components)
    spec_of = {s.name: s for s in components}
    scales, ignored = _fp8_scales(source)
    skip = set(scales.values()) | set(ignored)
    claims: dict[str, list[tuple[TensorInfo, str]]] = {}
    readers = [s for s in specs(source.kind, components) if s.reads(source.config)]
    left_out: dict[str, tuple[list[str], int]] = {}
    unknown = []
    for info in source.header.tensors.values():
        if info.name in skip:
            continue
        owners = [(spec, key) for spec in readers if (key := spec.select(info.name)) is not None]
        if len(owners) > 1 and not all(info.name.startswith(spec.shared) for spec, _ in owners):
            names = [spec.name for spec, _ in owners]
            raise ConversionError(f"{source.name}: {info.name} is claimed by {names}; fix the component specs")
        for spec, key in owners:
            claims.setdefault(spec.name, []).append((info, key))
        if not owners:
            found = unclaimed(info.name, source.kind, components)
            if found is None:
                unknown.append(info.name)
                continue
            prefixes, count = left_out.get(found[1], ([], 0))
            left_out[found[1]] = (prefixes if found[0] in prefixes else [*prefixes, found[0]], count + 1)
    if unknown:
        raise ConversionError(
            f"{source.name}: {len(unknown)} tensors no LTX component reads (e.g. {unknown[:3]}); "
            "not an LTX-2 / LTX-2.3 file?"
        )
    # A component that only matched keys it shares with another (the VAE statistics) is not in this file.
    claims = {
        name: tensors
        for name, tensors in claims.items()
        if not all(info.name.startswith(spec_of[name].shared or ("\0",)) for info, _ in tensors)
    }
    fp8 = {w: read_tensor(source.header, s) for w, s in scales.items()}
    planned = [_component(spec_of[name], source, tensors, quantize, dtype, scales) for name, tensors in claims.items()]
    gates = {t.gate: _float32(source, t.gate) for c in planned for t in c.targets if t.gate}
    return FilePlan(source, planned, left_out, ignored, fp8, gates)


def _float32(source: Source, name: str) -> np.ndarray:
    """A small float tensor of the file (a static gate) as float32."""
    info, data = source.header.tensors[name], read_tensor(source.header, name)
    if not is_float(info.dtype) or info.dtype == _FP8:
        raise ConversionError(f"{source.name}: {name} is {info.dtype}; a static gate must be a float tensor")
    return bf16_to_f32(data) if info.dtype == "BF16" else data.astype(np.float32)


def _layout_shape(spec: ComponentSpec, key: str, shape: tuple[int, ...], dtype: str) -> tuple[int, ...]:
    """Shape after ``to_mlx``, found on a zero-stride stand-in so that nothing is read or allocated."""
    dummy = np.lib.stride_tricks.as_strided(np.zeros(1, DTYPES[dtype][0]), shape, (0,) * len(shape))
    return tuple(spec.to_mlx(key, dummy).shape)


def _pieces(
    spec: ComponentSpec, source: Source, tensor: TensorInfo, key: str
) -> list[tuple[str, tuple[int, ...], Any]]:
    """(component key, source shape, part) of each tensor one source tensor becomes: itself, or its row blocks."""
    keys = spec.split(key) if spec.split else ()
    if not keys:
        return [(key, tensor.shape, None)]
    rows, count = tensor.shape[0] if tensor.shape else 0, len(keys)
    if rows % count:
        raise ConversionError(f"{source.name}: {tensor.name} has {rows} rows, not {count} equal blocks ({keys})")
    shape = (rows // count, *tensor.shape[1:])
    return [(k, shape, (i, count)) for i, k in enumerate(keys)]


def _component(
    spec: ComponentSpec,
    source: Source,
    tensors: list[tuple[TensorInfo, str]],
    quantize: QuantizeOptions | None,
    dtype: str,
    scales: dict[str, str],
) -> ComponentPlan:
    config = spec.config(source.config)
    wanted = {spec.gate(key) for _, key in tensors} if spec.gate else set()
    gate_names = {key: tensor.name for tensor, key in tensors if key in wanted}
    tensors = [(t, key) for t, key in tensors if key not in gate_names]  # folded into their Linears, not written
    pieces = [(t, k, shape, part) for t, key in tensors for k, shape, part in _pieces(spec, source, t, key)]
    keys = [key for _, key, _, _ in pieces]
    duplicates = sorted(k for k, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise ConversionError(f"{source.name}: several tensors map to {duplicates[:3]} in {spec.name}")
    info = {"model_version": source.model_version, **(spec.info(config, set(keys)) if spec.info else {})}
    info |= {k: _metadata_value(source.header.metadata[k]) for k in spec.metadata if k in source.header.metadata}
    targets, dropped, layer_bits = [], [], {}
    for tensor, key, source_shape, part in pieces:
        if spec.drop is not None and spec.drop(key):
            dropped.append(key)
            continue
        shape = _layout_shape(spec, key, source_shape, tensor.dtype)
        out = output_dtype(tensor.dtype, dtype)
        bits = quantize.layer_bits(spec, config, key, shape) if quantize and is_float(out) else None
        if bits is not None:
            layer_bits[key.removesuffix(".weight")] = bits
        gate = gate_names.get(spec.gate(key) or "") if spec.gate else None
        targets.append(Target(key, tensor, shape, out, bits, scales.get(tensor.name), part, gate))
    quantization = quantize.config_block(layer_bits) if quantize else None
    folder = spec.folder_name(config)
    return ComponentPlan(spec, folder, source, config, info, targets, dropped, quantization)


def _metadata_value(raw: str) -> Any:
    """A ``__metadata__`` value as the reference reads it: JSON when it parses, else the string."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _plan_lora(source: Source, dtype: str) -> FilePlan:
    """A LoRA keeps its keys (``diffusion_model.`` stripped: transformer module paths) and metadata verbatim."""
    pairs: dict[str, dict[str, TensorInfo]] = {}
    ignored = []
    for info in source.header.tensors.values():
        match = _LORA.fullmatch(info.name)
        if match is None:
            ignored.append(info.name)
        else:
            pairs.setdefault(match.group(1), {})[match.group(2)] = info
    if not pairs:
        raise ConversionError(f"{source.name}: no diffusion_model.*.lora_A/lora_B.weight keys; not an LTX LoRA")
    ranks = {_lora_rank(source, path, pair) for path, pair in pairs.items()}
    spec = ComponentSpec(name="lora", select=lambda key: None, source=LORA)
    targets = sorted(
        (
            Target(f"{path}.{which}.weight", info, info.shape, output_dtype(info.dtype, dtype))
            for path, pair in pairs.items()
            for which, info in pair.items()
        ),
        key=lambda t: t.tensor.begin,
    )
    info = {"target": "transformer", "ranks": sorted(ranks), "layers": len(pairs), "source_file": source.name}
    folder = f"loras/{Path(source.name).stem}"
    return FilePlan(source, [ComponentPlan(spec, folder, source, dict(source.config), info, targets)], {}, ignored)


def _lora_rank(source: Source, path: str, pair: dict[str, TensorInfo]) -> int:
    if set(pair) != {"lora_A", "lora_B"}:
        raise ConversionError(f"{source.name}: {path} has {sorted(pair)} but needs lora_A and lora_B")
    a, b = pair["lora_A"].shape, pair["lora_B"].shape
    if len(a) != 2 or len(b) != 2 or a[0] != b[1]:
        raise ConversionError(f"{source.name}: {path} lora_A {list(a)} and lora_B {list(b)} disagree on the rank")
    return a[0]


def check_against_model(component: ComponentPlan) -> None:
    """Every parameter of the MLX model gets exactly one tensor of its shape (built lazily: nothing allocated).

    Skipped when the spec names no builder, or with a ``ConversionWarning`` naming the distribution when the
    builder's package is not installed (ltx-convert alone).
    """
    build = component.spec.build_function()
    if build is None:
        return
    import mlx.core as mx
    from mlx.utils import tree_flatten

    from mlx_ltx_core.loader import ComponentFolder

    folder = ComponentFolder(Path(component.folder), component.spec.name, component.config, component.info, None, {})
    params = cast("list[tuple[str, mx.array]]", tree_flatten(build(folder).parameters()))  # stubs: list[Any]
    expected = {k: tuple(v.shape) for k, v in params}
    got = {t.key: t.shape for t in component.targets}
    wrong = [f"{k} {list(got[k])} != {list(v)}" for k, v in sorted(expected.items()) if k in got and got[k] != v]
    found = (
        ("missing", sorted(expected.keys() - got.keys())),
        ("unexpected", sorted(got.keys() - expected.keys())),
        ("wrong shapes", wrong),
    )
    problems = [
        f"{label} {items[:4]}{f' and {len(items) - 4} more' if len(items) > 4 else ''}"
        for label, items in found
        if items
    ]
    if problems:
        raise ConversionError(
            f"{component.source.name}: the {component.spec.name} tensors do not match the model its config "
            f"describes: {'; '.join(problems)}"
        )


def not_converted_message(plan: FilePlan, what: str) -> str:
    """``model.diffusion_model.embeddings_connector.* (8 tensors of ltx-2-19b-dev.safetensors): video-only text
    connector not converted (no component spec reads it)``."""
    starts, count = plan.not_converted[what]
    where = f"{count} tensors of {plan.source.name}"
    keys = ", ".join(f"{p}*" for p in starts if p)
    why = plan.reasons.get(what, "no component spec reads it")
    return f"{keys + f' ({where})' if keys else where}: {what} not converted ({why})"
