"""Low-memory mode (streaming.py): blocks read from the folder a group at a time give bit-identical outputs to the
resident model, for float and quantized folders, and hold no block weights between forwards."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from mlx_ltx_core.loader import ComponentError, read_component, save_component
from mlx_ltx_core.model.transformer import load_transformer, quantize_transformer
from mlx_ltx_core.model.transformer.streaming import BlockStream, block_of, load_streamed_transformer

import transformer_goldens as tg
from ltx_testing import manifest

CASES = {(c["config"], c["case"]): c for c in manifest(tg.FAMILY)["cases"]}
# T2V and I2V (keyframe tokens, per-token timesteps) of LTX-2 and LTX-2.3, STG perturbing one block, LTX-2.5.
PICKED = [("ltx2_av", "t2v"), ("ltx2_av", "i2v_keyframe"), ("ltx23_av", "t2v"), ("ltx23_av", "i2v_keyframe")]
PICKED += [("ltx23_av", "stg"), ("ltx25_av", "t2v")]


def _folder(tmp_path_factory: pytest.TempPathFactory, case: dict, bits: int | None = None):
    """The case's model as a component folder in shards of ~40 kB, so blocks straddle shards."""
    config, _ = tg.checkpoint(case["weights"])
    model = tg.build(case)
    quantization = quantize_transformer(model, bits, group_size=32) if bits else None
    path = tmp_path_factory.mktemp("model") / "transformer"
    info = {"model_type": model.args.model_type.name}
    weights = dict(tree_flatten(model.parameters()))
    return save_component(
        path, "transformer", config, weights, info=info, quantization=quantization, max_shard_bytes=40_000
    )


def _outputs(model, case: dict) -> dict[str, np.ndarray]:
    video, audio = tg.modalities(case)
    inter: dict[str, mx.array] = {}
    vx, ax = model(video, audio, tg.perturbations(case, model.args.num_layers), intermediates=inter)
    out = {**inter, "video": vx, "audio": ax}
    return {k: np.array(v) for k, v in out.items() if v is not None}


def _assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("key", PICKED, ids=lambda k: "-".join(k))
@pytest.mark.parametrize(("group", "prefetch"), [(1, True), (2, False)])
def test_streamed_outputs_are_bit_identical(tmp_path_factory, key, group, prefetch) -> None:
    case = CASES[key]
    path = _folder(tmp_path_factory, case)
    resident = _outputs(load_transformer(path), case)
    streamed = load_streamed_transformer(path, blocks_per_group=group, prefetch=prefetch)
    _assert_identical(resident, _outputs(streamed, case))
    _assert_identical(resident, _outputs(streamed, case))  # a second forward reads the blocks again


@pytest.mark.parametrize("bits", [8, 4])
def test_quantized_folders_stream_bit_identically(tmp_path_factory, bits) -> None:
    case = CASES[("ltx23_av", "t2v")]
    path = _folder(tmp_path_factory, case, bits)
    streamed = load_transformer(path, low_memory=True)
    assert isinstance(streamed.block_stream, BlockStream)
    _assert_identical(_outputs(load_transformer(path), case), _outputs(streamed, case))


def test_dtype_cast_and_transform_apply_to_every_group(tmp_path_factory) -> None:
    """``dtype`` casts streamed and resident weights alike; ``transform`` sees each group's (and the resident) keys."""
    case = CASES[("ltx2_av", "t2v")]
    path = _folder(tmp_path_factory, case)
    seen: list[set[int | None]] = []

    def double_gates(weights: dict[str, mx.array]) -> dict[str, mx.array]:
        seen.append({block_of(k) for k in weights})
        return {k: v * 2 if k.endswith("scale_shift_table") else v for k, v in weights.items()}

    resident = load_transformer(path, dtype=mx.bfloat16)
    resident.update(tree_unflatten(list(double_gates(dict(tree_flatten(resident.parameters()))).items())))
    seen.clear()
    streamed = load_streamed_transformer(path, dtype=mx.bfloat16, transform=double_gates)
    video, audio = tg.modalities(case, mx.bfloat16)
    expected, got = resident(video, audio), streamed(video, audio)
    for e, g in zip(expected, got, strict=True):
        assert g is not None and g.dtype == mx.bfloat16
        np.testing.assert_array_equal(np.array(e.astype(mx.float32)), np.array(g.astype(mx.float32)))
    assert seen == [{None}, {0}, {1}]  # resident keys at load, then one group per block in the forward


def test_no_block_weights_are_held_outside_a_forward(tmp_path_factory) -> None:
    case = CASES[("ltx23_av", "t2v")]
    path = _folder(tmp_path_factory, case)
    folder = read_component(path, "transformer")
    block_bytes = BlockStream(folder).group_bytes(2) * 2  # two blocks, one per group
    mx.clear_cache()
    before = mx.get_active_memory()
    model = load_streamed_transformer(path)
    held = mx.get_active_memory() - before
    assert held <= folder.total_size - block_bytes + 4096  # the resident part only (+ the placeholders' scalars)
    _outputs(model, case)
    assert mx.get_active_memory() - before <= held + 4096  # the forward read the blocks and let them go
    assert len(folder.shards) > 2  # blocks straddle shards


def test_a_folder_that_does_not_fit_is_refused_before_any_read(tmp_path_factory) -> None:
    case = CASES[("ltx2_av", "t2v")]
    path = _folder(tmp_path_factory, case)
    other = CASES[("ltx23_av", "t2v")]
    wrong = _folder(tmp_path_factory, other)
    (path / "config.json").write_text((wrong / "config.json").read_text())  # ltx23's config over ltx2's weights
    with pytest.raises(ComponentError, match="keys"):
        load_streamed_transformer(path)
    with pytest.raises(ValueError, match="blocks_per_group=0 must be >= 1"):
        load_streamed_transformer(wrong, blocks_per_group=0)
