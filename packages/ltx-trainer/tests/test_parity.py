"""Parity with the reference trainer (tools/parity/goldens_trainer.py): the recorded draws are injected, and every
output must match within 1e-5·max|ref| in float32 — σ from the sampler, the noisy input, timesteps, positions,
targets and loss masks of every flexible-strategy mode, the LoRA model's velocities, the per-sample loss, the
LoRA gradients, and the adapters after 3 AdamW steps with gradient accumulation 2, clipping and the linear LR.
The references are the reference trainer's float64 run on the same inputs; ours runs in float32."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from mlx_ltx_trainer.config import OptimizationConfig
from mlx_ltx_trainer.draws import RecordedDraws
from mlx_ltx_trainer.lora import lora_weights
from mlx_ltx_trainer.optim import GradientAccumulator, learning_rate_at, make_optimizer, optimizer_step
from mlx_ltx_trainer.step import loss_and_grads, model_forward
from mlx_ltx_trainer.strategy import FlexibleStrategy
from mlx_ltx_trainer.timestep_samplers import (
    ShiftedLogitNormalTimestepSampler,
    UniformTimestepSampler,
    make_sampler,
)

from ltx_testing import assert_parity, group, manifest

REL = 1e-5


class ReferenceSigmas:
    """Our sampler, checked against the σ the reference's sampler returned (same draws), then replaced by it:
    the goldens are "the loss for fixed σ" (σ enters the timestep sinusoid ×1000, and torch's and MLX's float32
    sigmoid differ by an ulp now and then). ``sample_for`` still consumes the draws, in the reference's order."""

    def __init__(self, sampler: Any, sigmas: list[np.ndarray], rel: float):
        self.sampler, self.sigmas, self.rel = sampler, list(sigmas), rel

    def sample(self, batch_size: int, seq_length: int, draws: Any) -> mx.array:
        return self._checked(self.sampler.sample(batch_size, seq_length, draws))

    def sample_for(self, latents: mx.array, draws: Any) -> mx.array:
        return self._checked(self.sampler.sample_for(latents, draws))

    def _checked(self, ours: mx.array) -> mx.array:
        ref = self.sigmas.pop(0)
        assert_parity(np.array(ours), ref, self.rel, "sigma")
        return mx.array(ref)


CASES = sorted(manifest("trainer")["cases"])


def _np(x: mx.array) -> np.ndarray:
    return np.array(x.astype(mx.float32))


def assert_tree_parity(ours: dict[str, mx.array], ref: dict[str, np.ndarray], label: str) -> None:
    """Every tensor within REL · the largest |ref| of the whole tree (one scale, as for a single tensor)."""
    assert sorted(ours) == sorted(ref), label
    scale = max(float(np.abs(v).max()) for v in ref.values())
    for name, value in ref.items():
        err = float(np.abs(_np(ours[name]).astype(np.float64) - value).max()) / scale
        assert err <= REL, f"{label} {name}: max|Δ|/max|ref| = {err:.2e} > {REL:.0e}"


def test_shifted_sampler_matches_reference(goldens) -> None:
    info = goldens.manifest()["sampler"]
    tensors = goldens.tensors(info["file"])
    sampler = ShiftedLogitNormalTimestepSampler()
    for n, ref in info["shifted"].items():
        n = int(n)
        assert sampler.shift_for_sequence_length(n) == pytest.approx(ref["mu"], rel=1e-12)
        lo, hi = sampler.percentile_bounds(n)
        assert lo.item() == pytest.approx(ref["p_lo"], rel=1e-6) and hi.item() == pytest.approx(ref["p_hi"], rel=1e-6)
        draws = RecordedDraws(goldens.draws(tensors, f"shifted.{n}.draws"))
        sigma = sampler.sample(info["batch"], n, draws)
        assert draws.remaining == 0
        assert_parity(_np(sigma), tensors[f"shifted.{n}.sigma"], REL, f"sigma N={n}")
        # the density: same histogram (and σ stays in [0, 1])
        assert float(sigma.min()) >= 0.0 and float(sigma.max()) <= 1.0
    low, high = info["uniform"]
    sigma = make_sampler("uniform", {"min_value": low, "max_value": high}).sample(
        info["batch"], 1, RecordedDraws(goldens.draws(tensors, "uniform.draws"))
    )
    assert_parity(_np(sigma), tensors["uniform.sigma"], REL, "uniform sigma")


@pytest.mark.parametrize("case", CASES)
def test_strategy_step_matches_reference(goldens, case: str) -> None:
    info = goldens.manifest()["cases"][case]
    tensors = goldens.tensors(info["file"])
    strategy = FlexibleStrategy(goldens.strategy_config(info["strategy"]))
    sampler = UniformTimestepSampler() if info["sampler"] == "uniform" else ShiftedLogitNormalTimestepSampler()
    sampler = ReferenceSigmas(sampler, goldens.draws(tensors, "sigmas"), REL)
    draws = RecordedDraws(goldens.draws(tensors))
    model = goldens.model()
    batch = goldens.batch(tensors)
    if info["grads"]:
        per_sample, grads, inputs = loss_and_grads(model, strategy, batch, sampler, draws, compute_dtype=mx.float32)
    else:
        inputs = strategy.prepare_training_inputs(batch, sampler, draws)
        per_sample, grads = strategy.compute_loss(*model_forward(model, inputs, mx.float32), inputs), None
    assert draws.remaining == 0 and not sampler.sigmas, "the step consumed fewer draws than the reference"
    ref_inputs = group(tensors, "inputs")
    for prefix in ("video", "audio"):
        m = getattr(inputs, prefix)
        assert (m is None) == (f"{prefix}.latent" not in ref_inputs), prefix
        if m is None:
            continue
        for name in ("latent", "sigma", "timesteps", "positions"):
            assert_parity(_np(getattr(m, name)), ref_inputs[f"{prefix}.{name}"], REL, f"{case} {prefix}.{name}")
        for name in ("targets", "loss_mask"):
            ours, key = getattr(inputs, f"{prefix}_{name}"), f"{prefix}_{name}"
            assert (ours is None) == (key not in ref_inputs), key
            if ours is not None:
                assert_parity(_np(ours), ref_inputs[key], REL, f"{case} {key}")
    vp, ap = model_forward(model, inputs, mx.float32)
    for name, pred in (("video_pred", vp), ("audio_pred", ap)):
        if f"outputs.{name}" in tensors:
            assert pred is not None
            assert_parity(_np(pred), tensors[f"outputs.{name}"], REL, f"{case} {name}")
    assert_parity(_np(per_sample), tensors["outputs.loss"], REL, f"{case} loss")
    if grads is not None:
        ref_grads = group(tensors, "grads")
        ours = dict(tree_flatten(grads))
        assert sorted(ours) == sorted(ref_grads)
        assert_tree_parity(ours, ref_grads, f"{case} grad")


def test_adamw_accumulation_matches_reference(goldens) -> None:
    """Each micro-batch's gradient within REL of the reference's; then the reference's gradient is what enters the
    accumulator (as σ enters the model): Adam's first steps take g/(|g| + 1e-8), so an element with |g| ≈ 1e-8
    (one at step 1 here) turns a float32 rounding of g into a 1e-3 change of the weights, whoever computes g."""
    info = goldens.manifest()["adamw"]
    tensors = goldens.tensors(info["file"])
    cfg = OptimizationConfig(**info["optimization"], batch_size=1)
    model = goldens.model(group(tensors, "init"))
    strategy = FlexibleStrategy(goldens.strategy_config(info["strategy"]))
    sampler = ShiftedLogitNormalTimestepSampler()
    samples = [goldens.batch(tensors, f"sample{i}.batch") for i in range(2)]
    optimizer = make_optimizer(cfg)
    acc = GradientAccumulator(cfg.gradient_accumulation_steps)
    step = 0
    for micro, sample in enumerate(info["micro_batches"]):
        draws = RecordedDraws(goldens.draws(tensors, f"micro{micro}.draws"))
        sigmas = ReferenceSigmas(sampler, goldens.draws(tensors, f"micro{micro}.sigmas"), REL)
        per_sample, grads, _ = loss_and_grads(
            model, strategy, samples[sample], sigmas, draws, acc.loss_scale, compute_dtype=mx.float32
        )
        assert per_sample.mean().item() == pytest.approx(info["losses"][micro], rel=REL)
        ref_grads = group(tensors, f"micro{micro}.grads")
        assert_tree_parity(dict(tree_flatten(grads)), ref_grads, f"micro {micro} grad")
        if acc.add(tree_unflatten([(k, mx.array(v, dtype=mx.float32)) for k, v in ref_grads.items()])):
            assert learning_rate_at(cfg, step) == pytest.approx(info["learning_rates"][step], rel=1e-12)
            norm = optimizer_step(optimizer, model, acc.take(), cfg, step)
            assert norm.item() == pytest.approx(info["grad_norms"][step], rel=REL)
            step += 1
            mx.eval(model.parameters(), optimizer.state)
            assert_tree_parity(lora_weights(model), group(tensors, f"step{step}"), f"step {step}")
    assert step == cfg.steps


def test_saved_keys_match_the_reference(goldens, tmp_path) -> None:
    from mlx_ltx_trainer.lora import save_lora

    spec = goldens.manifest()["lora"]
    path = save_lora(tmp_path / "lora.safetensors", goldens.model(), rank=spec["rank"], alpha=spec["alpha"])
    tensors = mx.load(str(path))
    assert isinstance(tensors, dict)
    assert sorted(tensors) == goldens.manifest()["saved_keys"]
    assert all(v.dtype == mx.bfloat16 for v in tensors.values())


def test_lora_model_is_a_module(goldens) -> None:
    """Only the adapters are trainable after injection."""
    model = goldens.model()
    trainable = [k for k, _ in tree_flatten(model.trainable_parameters())]
    assert trainable and all(k.endswith(("lora_A", "lora_B")) for k in trainable)
    assert isinstance(model, nn.Module)


@pytest.mark.parametrize("index", range(len(manifest("trainer")["schedulers"])))
def test_learning_rate_schedules_match_the_reference(goldens, index: int) -> None:
    ref = goldens.manifest()["schedulers"][index]
    cfg = OptimizationConfig(
        learning_rate=ref["learning_rate"],
        steps=ref["steps"],
        scheduler_type=ref["scheduler_type"],
        scheduler_params=ref["scheduler_params"],
    )
    ours = [learning_rate_at(cfg, k) for k in range(len(ref["learning_rates"]))]
    np.testing.assert_allclose(ours, ref["learning_rates"], rtol=1e-9, atol=1e-15)
