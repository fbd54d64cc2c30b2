"""Key coverage of ltx-convert on the full-size LTX-2 / 2.3 / 2.5 key lists (tests/data/full_size_keys.json).

From shapes alone (headers built in memory, models built lazily): every source key maps to exactly one target
tensor of one component (the VAE statistics, shared by encoder and decoder, to one in each) or is reported as not
converted; every parameter of every registered MLX component receives exactly one tensor of its
shape. Adding a component spec to mlx_ltx_convert.components.COMPONENTS extends these tests to it automatically.
LTX-2.5 is also planned as its split release (one file per component, the text projection over two files).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from mlx.utils import tree_flatten

from mlx_ltx_convert.components import by_name, specs
from mlx_ltx_convert.model_folder import check_inputs
from mlx_ltx_convert.plan import FilePlan, join_parts, not_converted_message, plan_file
from mlx_ltx_convert.quantize import QuantizeOptions
from mlx_ltx_convert.safetensors_io import Header, TensorInfo
from mlx_ltx_convert.sources import CHECKPOINT, UPSCALER, Source
from mlx_ltx_core.loader import ComponentFolder

FULL_SIZE = json.loads((Path(__file__).parent / "data" / "full_size_keys.json").read_text())["models"]
VERSIONS = {"ltx-2": "2.0.0", "ltx-2.3": "2.3.0", "ltx-2.5": "2.5.0"}
COMPONENTS = [(v, name) for v in FULL_SIZE for name in FULL_SIZE[v]["components"]]


def _expanded(entry: dict) -> dict[str, tuple[int, ...]]:
    layers = entry["config"].get("num_layers", 0)
    out = {}
    for key, shape in entry["keys"].items():
        for name in [key.format(i=i) for i in range(layers)] if "{i}" in key else [key]:
            out[name] = tuple(shape)
    return out


def _source(version: str, source: str, component: str | None = None) -> Source:
    """A bfloat16 file of the full-size keys (header only: nothing is allocated or written)."""
    model = FULL_SIZE[version]
    entries = [c for n, c in model["components"].items() if c["source"] == source and n == (component or n)]
    keys: dict[str, tuple[int, ...]] = {}
    for entry in entries:
        keys.update(_expanded(entry))
    header = _header(f"{version}-{component or source}.safetensors", keys)
    if source == UPSCALER:
        return Source(header, source, entries[0]["config"], None, None)
    return Source(header, source, model["metadata_config"], VERSIONS[version], version)


def _header(name: str, keys: dict[str, tuple[int, ...]]) -> Header:
    tensors, offset = {}, 0
    for key, shape in sorted(keys.items()):
        size = 2 * math.prod(shape)
        tensors[key] = TensorInfo(key, "BF16", shape, offset, offset + size)
        offset += size
    return Header(Path(name), {}, tensors, 0, offset)


def _split_sources(version: str) -> list[Source]:
    """The split release's checkpoint files (the text-encoder file with only its projection keys)."""
    model = FULL_SIZE[version]
    keys: dict[str, tuple[int, ...]] = {}
    for entry in model["components"].values():
        if entry["source"] == CHECKPOINT:
            keys.update(_expanded(entry))
    sources = []
    for name, held in model["files"].items():
        header = _header(name, {k: v for k, v in keys.items() if k.startswith(tuple(held["prefixes"]))})
        config = {section: model["metadata_config"][section] for section in held["metadata"]}
        sources.append(Source(header, CHECKPOINT, config, VERSIONS[version], version))
    assert sum(len(s.header.tensors) for s in sources) == len(keys), "every key in one file"
    return sources


def test_split_release_files_make_one_model() -> None:
    """LTX-2.5: transformer file (+ both connectors), text-encoder file's projection, bare-key conv VAE, audio VAE."""
    sources = _split_sources("ltx-2.5")
    plans = [plan_file(s) for s in sources]
    join_parts(plans)
    check_inputs(plans, None)
    components = {c.folder: c for p in plans for c in p.components}
    assert sorted(components) == sorted(
        n for n, e in FULL_SIZE["ltx-2.5"]["components"].items() if e["source"] == CHECKPOINT
    )
    text = components["text_projection"]
    assert [s.header.path.name for s in text.sources] == [sources[0].header.path.name, sources[1].header.path.name]
    assert len(text.targets) == FULL_SIZE["ltx-2.5"]["components"]["text_projection"]["num_tensors"]
    assert text.config == FULL_SIZE["ltx-2.5"]["metadata_config"]["transformer"]
    assert not any(p.not_converted for p in plans)


def test_a_split_part_without_its_other_file_is_reported_not_converted() -> None:
    transformer_file = _split_sources("ltx-2.5")[0]
    plans = [plan_file(transformer_file)]
    join_parts(plans)
    assert [c.spec.name for c in plans[0].components] == ["transformer"]
    (what,) = plans[0].not_converted
    message = not_converted_message(plans[0], what)
    assert message.startswith("model.diffusion_model.audio_embeddings_connector.*, model.diffusion_model.video_")
    assert (
        "(258 tensors of ltx-2.5-22b-dev-transformer-bf16.safetensors): text_projection part not converted" in message
    )
    assert "needs the text-encoder file (LTX-2.5: gemma4-12b-with-proj-ltx-2.5-bf16.safetensors)" in message


def test_the_diffusion_vae_file_maps_one_to_one() -> None:
    """LTX-2.5's diffusion-VAE file (T1: 84 encoder + 310 decoder + 2 statistics tensors): the conv encoder and the
    diffusion decoder each get every parameter once with its shape (checked against the MLX models while planning);
    fused QKV tensors give three targets; only ``type_emb`` is dropped."""
    file = FULL_SIZE["ltx-2.5"]["diffusion_vae_file"]
    keys = {k: tuple(v) for k, v in file["keys"].items()}
    source = Source(_header(file["name"], keys), CHECKPOINT, file["metadata_config"], "2.5.0", "ltx-2.5")
    plan = plan_file(source)
    components = {c.spec.name: c for c in plan.components}
    assert sorted(components) == ["diffusion_video_decoder", "video_encoder"]
    decoder = components["diffusion_video_decoder"]
    assert decoder.folder == "video_decoder" and decoder.dropped == ["type_emb"]
    fused = [k for k in keys if k.endswith((".qkv.weight", ".qkv.bias"))]
    assert len(fused) == 2 * sum(file["metadata_config"]["vae"]["decoder"]["stage_depths"])  # det stages + stage 5
    read = {t.tensor.name for c in plan.components for t in c.targets}
    assert read | {"decoder.type_emb"} == set(keys) and not plan.not_converted
    assert len(decoder.targets) == 310 - 1 + 2 * len(fused) + 2  # + the shared statistics


@pytest.fixture(scope="module", params=sorted(FULL_SIZE))
def checkpoint_plan(request) -> tuple[str, Source, FilePlan]:
    source = _source(request.param, CHECKPOINT)
    return request.param, source, plan_file(source)


def test_every_checkpoint_key_has_one_target_or_is_reported(checkpoint_plan) -> None:
    version, source, plan = checkpoint_plan
    targets: dict[str, list[str]] = {}
    for component in plan.components:
        for t in component.targets:
            targets.setdefault(t.tensor.name, []).append(component.spec.name)
    left = sum(count for _, count in plan.not_converted.values())
    assert len(targets) + left == len(source.header.tensors)
    shared = {k: v for k, v in targets.items() if len(v) > 1}
    assert all(k.startswith(by_name(v[0]).shared) for k, v in shared.items()), shared
    unregistered = set()
    for name, entry in FULL_SIZE[version]["components"].items():
        if entry["source"] == CHECKPOINT and by_name(name) is None:
            unregistered |= set(_expanded(entry))
    assert left == len(unregistered - set(targets))


@pytest.mark.parametrize(("version", "name"), COMPONENTS, ids=[f"{v}-{n}" for v, n in COMPONENTS])
def test_every_parameter_of_a_registered_component_gets_one_tensor(version: str, name: str) -> None:
    entry = FULL_SIZE[version]["components"][name]
    readers = [s for s in specs(entry["source"]) if entry["source"] == UPSCALER or s.name == name]
    if not readers:
        plan = plan_file(_source(version, entry["source"], name))
        assert plan.not_converted, f"{name}: neither converted nor reported"
        pytest.skip(f"{name}: no component spec registered in this build ({', '.join(plan.not_converted)})")
    plan = plan_file(_source(version, entry["source"], name))
    (component,) = [c for c in plan.components if c.spec in readers]
    build = component.spec.build_function()
    assert build is not None, f"{name}: a registered spec needs a builder to check coverage"
    folder = ComponentFolder(Path(name), component.spec.name, component.config, component.info, None, {})
    params = {k: tuple(v.shape) for k, v in tree_flatten(build(folder).parameters())}
    got = {t.key: t.shape for t in component.targets}
    assert len(got) == len(component.targets)  # one tensor per parameter
    assert got == params
    dropped = len(component.dropped)
    assert len(component.targets) + dropped == len(_expanded(entry))


@pytest.mark.parametrize("version", sorted(FULL_SIZE))
def test_full_size_quantization_recipe(version: str) -> None:
    """4-bit: every block attention / feed-forward Linear (28 per block), nothing else; mixed: six edge blocks at 8."""
    source = _source(version, CHECKPOINT, "transformer")
    plan = plan_file(source, quantize=QuantizeOptions(4, 64), check_models=False)
    (transformer,) = plan.components
    quantized = [t.key for t in transformer.targets if t.bits]
    assert len(quantized) == 48 * 28 and all(k.startswith("transformer_blocks.") for k in quantized)
    size = transformer.nbytes() / 1e9
    assert 10 < size < 12, f"{version} 4-bit transformer: {size:.1f} GB"
    mixed = plan_file(source, quantize=QuantizeOptions(4, 64, mixed=True), check_models=False).components[0]
    assert sum(isinstance(v, dict) for v in mixed.quantization.values()) == 6 * 28
