"""LoRA adapters: PEFT's target matching, float32 adapters on a bf16 base, the saved Lightricks-format file, and
that the pipelines' ``--lora-path`` loader (mlx_ltx_pipelines.lora) reads it and changes the output."""

from __future__ import annotations

import json

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_map

from mlx_ltx_pipelines.lora import fuse_loras, load_lora
from mlx_ltx_trainer.draws import RecordedDraws
from mlx_ltx_trainer.lora import (
    LoRALinear,
    inject_lora,
    load_lora_weights,
    lora_modules,
    lora_weights,
    save_lora,
    target_module_names,
)
from mlx_ltx_trainer.step import model_forward
from mlx_ltx_trainer.strategy import FlexibleStrategy
from mlx_ltx_trainer.timestep_samplers import ShiftedLogitNormalTimestepSampler


def test_peft_suffix_matching(goldens) -> None:
    model = goldens.plain()
    to_k = target_module_names(model, ["to_k"])
    assert {n.split(".")[2] for n in to_k} == {
        "attn1", "attn2", "audio_attn1", "audio_attn2", "audio_to_video_attn", "video_to_audio_attn"
    }  # fmt: skip
    assert target_module_names(model, ["attn1.to_k"]) == ["transformer_blocks.0.attn1.to_k"]
    assert target_module_names(model, ["ff.net.0.proj"]) == ["transformer_blocks.0.ff.net.0.proj"]
    assert "transformer_blocks.0.attn1.to_out.0" in target_module_names(model, ["to_out.0"])
    with pytest.raises(ValueError, match=r"transformer_blocks\.0\.attn1 is a Attention, not a Linear"):
        target_module_names(model, ["attn1"])
    with pytest.raises(ValueError, match=r"match no Linear layer"):
        target_module_names(model, ["to_kk"])


def test_adapters_are_float32_and_start_as_identity(goldens) -> None:
    model = goldens.plain()
    model.update(tree_map(lambda p: p.astype(mx.bfloat16), model.parameters()))
    names = inject_lora(model, rank=4, alpha=8, target_modules=["to_q", "to_v"], seed=3)
    mods = lora_modules(model)
    assert sorted(mods) == names and all(isinstance(m, LoRALinear) for m in mods.values())
    for m in mods.values():
        assert m.lora_A.dtype == mx.float32 and m.lora_B.dtype == mx.float32 and m.scale == 2.0
        bound = 1 / np.sqrt(m.lora_A.shape[1])
        assert float(mx.abs(m.lora_A).max()) <= bound and float(mx.abs(m.lora_B).max()) == 0.0
        assert m.base["weight"].dtype == mx.bfloat16
    trainable = [k for k, _ in tree_flatten(model.trainable_parameters())]
    assert sorted(trainable) == sorted(lora_weights(model))


def _inputs(goldens, case="t2v"):
    info = goldens.manifest()["cases"][case]
    tensors = goldens.tensors(info["file"])
    strategy = FlexibleStrategy(goldens.strategy_config(info["strategy"]))
    return strategy.prepare_training_inputs(
        goldens.batch(tensors), ShiftedLogitNormalTimestepSampler(), RecordedDraws(goldens.draws(tensors))
    )


def test_saved_lora_loads_in_the_pipelines_and_changes_the_output(goldens, tmp_path) -> None:
    """alpha = rank: the pipelines fuse W + B·A at strength 1, exactly the adapter model's function."""
    trained = goldens.plain()
    inject_lora(trained, rank=2, alpha=2, target_modules=["to_q", "to_v", "to_out.0", "ff.net.2"], seed=0)
    for m in lora_modules(trained).values():
        m.lora_B = mx.random.normal(m.lora_B.shape, key=mx.random.key(1)) * 0.2
    targets = ["to_q", "to_v", "to_out.0", "ff.net.2"]
    path = save_lora(tmp_path / "lora.safetensors", trained, rank=2, alpha=2, precision="float32",
                     target_modules=targets, metadata={"reference_downscale_factor": 2})  # fmt: skip
    inputs = _inputs(goldens)
    expected_v, expected_a = model_forward(trained, inputs, mx.float32)

    lora = load_lora(path)
    assert lora.metadata["lora_rank"] == "2" and lora.metadata["lora_alpha"] == "2"
    assert json.loads(lora.metadata["lora_target_modules"]) == ["to_q", "to_v", "to_out.0", "ff.net.2"]
    assert lora.reference_downscale_factor == 2
    base = goldens.plain()
    base_v, _ = model_forward(base, inputs, mx.float32)
    fused = fuse_loras(base, [lora])
    got_v, got_a = model_forward(fused, inputs, mx.float32)
    assert expected_v is not None and got_v is not None and base_v is not None
    assert float(mx.abs(got_v - base_v).max()) > 1e-2  # the LoRA changes the output
    np.testing.assert_allclose(np.array(got_v), np.array(expected_v), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.array(got_a), np.array(expected_a), rtol=1e-4, atol=1e-4)


def test_save_is_atomic_and_reloads(goldens, tmp_path) -> None:
    model = goldens.model()
    path = save_lora(tmp_path / "w.safetensors", model, rank=2, alpha=4)
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
    fresh = goldens.model({k: np.zeros_like(v) for k, v in goldens.tensors("lora.safetensors").items()})
    load_lora_weights(fresh, path)
    for name, value in lora_weights(fresh).items():
        assert value.dtype == mx.float32
        saved = lora_weights(model)[name].astype(mx.bfloat16).astype(mx.float32)  # saved in bf16 by default
        np.testing.assert_array_equal(np.array(value), np.array(saved))
    other = goldens.plain()
    inject_lora(other, 2, 2, ["to_q"])
    with pytest.raises(ValueError, match=r"has no adapter in this model"):
        load_lora_weights(other, path)


def test_gradient_checkpointing_keeps_the_lora_gradients(goldens) -> None:
    """Per-block checkpointing: the same loss and the same (non-zero) LoRA gradients, the same parameter paths."""
    from mlx_ltx_trainer.checkpointing import enable_gradient_checkpointing
    from mlx_ltx_trainer.step import loss_and_grads

    info = goldens.manifest()["cases"]["av2av_ic"]
    tensors = goldens.tensors(info["file"])
    strategy = FlexibleStrategy(goldens.strategy_config(info["strategy"]))
    results = []
    for enabled in (False, True):
        model = goldens.model()
        enable_gradient_checkpointing(model, enabled)
        draws = RecordedDraws(goldens.draws(tensors))
        batch = goldens.batch(tensors)
        results.append(loss_and_grads(model, strategy, batch, ShiftedLogitNormalTimestepSampler(), draws))
    (loss0, g0, _), (loss1, g1, _) = results
    np.testing.assert_allclose(np.array(loss1), np.array(loss0), rtol=1e-6)
    g0, g1 = dict(tree_flatten(g0)), dict(tree_flatten(g1))
    assert sorted(g0) == sorted(g1)
    for name in g0:
        assert float(mx.abs(g1[name]).max()) > 0, name
        np.testing.assert_allclose(np.array(g1[name]), np.array(g0[name]), rtol=1e-5, atol=1e-7, err_msg=name)
