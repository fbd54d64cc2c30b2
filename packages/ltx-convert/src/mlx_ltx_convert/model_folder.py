"""The model folder's files: each component's config.json and index, and model_index.json (docs/format.md).

The format itself (file names, JSON layout) is ``mlx_ltx_core.component_format``; this module fills it in from the
conversion plan and checks that the inputs make one model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.plan import ComponentPlan, FilePlan, not_converted_message
from mlx_ltx_convert.quantize import QuantizeOptions
from mlx_ltx_convert.sources import CHECKPOINT
from mlx_ltx_core.component_format import (
    FORMAT_VERSION,
    config_json,
    index_json,
    shard_names,
    write_component_json,
)


def check_inputs(plans: list[FilePlan], quantize: QuantizeOptions | None) -> None:
    """One transformer checkpoint per folder (split releases: one file per component), one model family, distinct
    folder names, quantized components that exist."""
    checkpoints = [p.source.name for p in plans if p.source.kind == CHECKPOINT and _has_transformer(p)]
    if len(checkpoints) > 1:
        raise ConversionError(f"several model checkpoints ({', '.join(checkpoints)}); convert one per model folder")
    families = {p.source.family: p.source.name for p in plans if p.source.family}
    if len(families) > 1:
        raise ConversionError(f"inputs of different models: {', '.join(f'{n} is {f}' for f, n in families.items())}")
    folders: dict[str, str] = {}
    for p in plans:
        for c in p.components:
            if c.folder in folders:
                raise ConversionError(f"{p.source.name} and {folders[c.folder]} would both be written to {c.folder}/")
            folders[c.folder] = p.source.name
    if not folders:
        left = [not_converted_message(p, what) for p in plans for what in p.not_converted]
        raise ConversionError(f"nothing this build can convert: {'; '.join(left)}")
    _check_gemma_version(plans)
    if quantize is None:
        return
    specs = {c.spec.name: c.spec for p in plans for c in p.components}
    for name in quantize.components:
        if name not in specs:
            raise ConversionError(
                f"quantize components {name}: not among the converted components ({', '.join(sorted(specs))})",
                "components",
            )
        if specs[name].quantizable is None:
            raise ConversionError(
                f"quantize components {name}: this component has no quantization recipe", "components"
            )


def _check_gemma_version(plans: list[FilePlan]) -> None:
    """A text-encoder file converted with the model must be the Gemma its transformer file names (the reference's
    check, run here before anything is written)."""
    from mlx_ltx_core.gemma_version import GemmaVersionError, check_gemma_version

    components = {c.spec.name: c for p in plans for c in p.components}
    projection, encoder = components.get("text_projection"), components.get("text_encoder")
    if projection is None or encoder is None:
        return
    try:
        check_gemma_version(projection.info, encoder.config, encoder.source.name)
    except GemmaVersionError as e:
        raise ConversionError(str(e)) from None


def _has_transformer(plan: FilePlan) -> bool:
    return any(c.spec.name == "transformer" for c in plan.components)


def write_component_files(component: ComponentPlan, folder: Path, shard_meta: dict[str, dict[str, Any]]) -> None:
    """config.json, then the index last: a folder whose index is missing does not load."""
    group_size = component.group_size
    weight_map = {
        name: shard
        for shard, targets in zip(shard_names(len(component.shards)), component.shards, strict=True)
        for target in targets
        for name, _, _ in target.entries(group_size)
    }
    config = config_json(component.config, component.spec.name, component.info, component.quantization)
    write_component_json(folder, config, index_json(weight_map, component.nbytes(), shard_meta))


def model_index(plans: list[FilePlan], hashes: dict[str, str], origins: dict[str, str], dtype: str) -> dict[str, Any]:
    """model_index.json: format and model version, sources with sha256, components, what was not converted."""
    from mlx_ltx_convert import __version__

    # The version is the transformer file's (the reference reads metadata from it in split mode), else a checkpoint's.
    versioned = sorted(plans, key=lambda p: (not _has_transformer(p), p.source.kind != CHECKPOINT))
    main = next((p.source for p in versioned if p.source.model_version or p.source.family), None)
    components, not_converted = {}, {}
    for p in plans:
        for c in p.components:
            components[c.folder] = {
                "component": c.spec.name,
                "source": " + ".join(s.name for s in c.sources),
                "tensors": sum(len(t.entries(c.group_size)) for t in c.targets),
                "size": c.nbytes(),
                "quantization": c.quantization,
            }
        for what in p.not_converted:
            not_converted[what] = not_converted_message(p, what)
    return {
        "format_version": FORMAT_VERSION,
        "model_version": main.model_version if main else None,
        "model_family": main.family if main else None,
        "converter": {"name": "mlx-ltx-convert", "version": __version__},
        "dtype": dtype,
        "sources": [_source_entry(p, hashes, origins) for p in plans],
        "components": components,
        "not_converted": not_converted,
    }


def _source_entry(plan: FilePlan, hashes: dict[str, str], origins: dict[str, str]) -> dict[str, Any]:
    s = plan.source
    entry = {"file": s.name, "kind": s.kind, "size": s.header.file_size, "sha256": hashes[s.name]}
    if s.name in origins:
        entry["origin"] = origins[s.name]
    if plan.ignored:
        entry["ignored_tensors"] = len(plan.ignored)
    return entry
