"""The training loop (trainer.py 156-310 of the reference): ``steps × gradient_accumulation_steps`` micro-steps
over the cycled dataset; Accelerate's sync on the window's last micro-step or the epoch's last batch; clipping,
the learning rate and the optimizer on sync steps; ``global_step`` counted on every window's last micro-step;
checkpoints every ``checkpoints.interval`` global steps with ``keep_last_n``, and the final one.

Checkpoints (``<output_dir>/checkpoints/``): ``lora_weights_step_NNNNN.safetensors`` (the LoRA file) and
``training_state_step_NNNNN.safetensors`` (float32 adapters, AdamW moments and step, the draw key, the
micro-step): a resumed run continues bit-for-bit. Loss, learning rate and gradient norm go to
``<output_dir>/training_log.jsonl`` (one line per optimizer step).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten, tree_map, tree_map_with_path, tree_unflatten

from mlx_ltx_trainer.checkpointing import enable_gradient_checkpointing
from mlx_ltx_trainer.config import FlexibleStrategyConfig, TrainerConfig, check_supported, dump_config
from mlx_ltx_trainer.data import PrecomputedDataset
from mlx_ltx_trainer.draws import KeyDraws
from mlx_ltx_trainer.lora import inject_lora, lora_modules, lora_weights, save_lora
from mlx_ltx_trainer.optim import GradientAccumulator, learning_rate_at, make_optimizer, optimizer_step
from mlx_ltx_trainer.step import loss_and_grads
from mlx_ltx_trainer.strategy import FlexibleStrategy
from mlx_ltx_trainer.timestep_samplers import make_sampler


def _float(a: mx.array) -> float:
    return float(cast(float, a.item()))


_STATE = re.compile(r"^training_state_step_(\d{5,})\.safetensors$")


@dataclass
class TrainingResult:
    lora_path: Path
    global_step: int
    losses: list[float]


class Trainer:
    """LoRA training of ``model`` (an ``LTXModel`` with its base weights loaded) under ``cfg``. ``connectors`` (the
    model's text ``EmbeddingsProcessor``) run in every step on the dataset's pre-connector text features, as the
    reference does; without them the dataset's conditions are taken as contexts already."""

    def __init__(
        self,
        cfg: TrainerConfig,
        model: nn.Module,
        dataset: PrecomputedDataset | None = None,
        connectors: nn.Module | None = None,
    ):
        check_supported(cfg)
        if not isinstance(cfg.training_strategy, FlexibleStrategyConfig) or cfg.lora is None:
            raise ValueError("training_strategy: only the flexible strategy with a lora section is trained")
        self.cfg, self.model, self.connectors = cfg, model, connectors
        self.lora = cfg.lora
        self.strategy = FlexibleStrategy(cfg.training_strategy)
        self.sampler = make_sampler(
            cfg.flow_matching.timestep_sampling_mode, cfg.flow_matching.timestep_sampling_params
        )
        self.dataset = dataset or PrecomputedDataset(
            cfg.data.preprocessed_data_root, cfg.training_strategy.get_data_sources()
        )
        bf16 = cfg.acceleration.mixed_precision_mode == "bf16"
        self.compute_dtype = mx.bfloat16 if bf16 else mx.float32
        # LoRA mode: the base in bf16 under bf16 mixed precision (the reference's trainer.py 436), else float32
        if lora_modules(model):
            raise ValueError("the model already carries LoRA adapters; pass the plain transformer")
        model.update(tree_map(lambda p: p.astype(self.compute_dtype), model.parameters()))
        inject_lora(model, self.lora.rank, self.lora.alpha, self.lora.target_modules, self.lora.dropout, cfg.seed)
        enable_gradient_checkpointing(model, cfg.optimization.enable_gradient_checkpointing)
        self.optimizer = make_optimizer(cfg.optimization)
        self.output_dir = Path(cfg.output_dir)
        self.checkpoint_dir = self.output_dir / "checkpoints"

    # -- state -------------------------------------------------------------------------------------------------
    def _save_state(self, global_step: int, micro: int, draws: KeyDraws, syncs: int, acc: GradientAccumulator) -> None:
        arrays = {f"lora.{k}": v for k, v in lora_weights(self.model).items()}
        # a window left open by an epoch-end sync (Accelerate's end_of_dataloader) carries gradients over
        if acc.pending is not None:
            arrays |= {f"accumulated.{k}": v for k, v in tree_flatten(acc.pending)}
        arrays |= {f"optimizer.{k}": v for k, v in tree_flatten(self.optimizer.state)}
        arrays["rng.key"] = draws.key
        meta = {
            "global_step": str(global_step),
            "micro_step": str(micro),
            "syncs": str(syncs),
            "accumulated": str(acc.count),
        }
        path = self.checkpoint_dir / f"training_state_step_{global_step:05d}.safetensors"
        tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.safetensors")
        try:
            mx.save_safetensors(str(tmp), cast(dict[str, mx.array], arrays), metadata=meta)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def latest_state(self) -> Path | None:
        if not self.checkpoint_dir.is_dir():
            return None
        found = sorted((int(m[1]), p) for p in self.checkpoint_dir.iterdir() if (m := _STATE.match(p.name)))
        return found[-1][1] if found else None

    def _load_state(self, path: Path, acc: GradientAccumulator) -> tuple[int, int, KeyDraws, int]:
        loaded = mx.load(str(path), return_metadata=True)
        assert isinstance(loaded, tuple)
        arrays, meta = loaded
        lora = {k.removeprefix("lora."): v for k, v in arrays.items() if k.startswith("lora.")}
        for name, m in lora_modules(self.model).items():
            m.lora_A, m.lora_B = lora[f"{name}.lora_A"], lora[f"{name}.lora_B"]
        opt = [(k.removeprefix("optimizer."), v) for k, v in arrays.items() if k.startswith("optimizer.")]
        self.optimizer.state = tree_unflatten(opt)
        draws = KeyDraws(key=arrays["rng.key"])
        pending = {k.removeprefix("accumulated."): v for k, v in arrays.items() if k.startswith("accumulated.")}
        # the gradient tree has the trainable parameters' structure (empty branches included)
        tree = tree_map_with_path(lambda p, _: pending[p], self.model.trainable_parameters()) if pending else None
        acc.restore(tree, int(meta["accumulated"]))
        return int(meta["global_step"]), int(meta["micro_step"]), draws, int(meta["syncs"])

    def _cleanup(self) -> None:
        keep = self.cfg.checkpoints.keep_last_n
        if keep < 0:
            return
        for pattern in ("lora_weights_step_*.safetensors", "training_state_step_*.safetensors"):
            files = sorted(self.checkpoint_dir.glob(pattern))
            for old in files[: max(len(files) - keep, 0)]:
                old.unlink()

    def _save_checkpoint(
        self, global_step: int, micro: int, draws: KeyDraws, syncs: int, acc: GradientAccumulator
    ) -> Path:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = save_lora(
            self.checkpoint_dir / f"lora_weights_step_{global_step:05d}.safetensors",
            self.model,
            rank=self.lora.rank,
            alpha=self.lora.alpha,
            precision=self.cfg.checkpoints.precision,
            target_modules=self.lora.target_modules,
            metadata=self.strategy.get_checkpoint_metadata(),
        )
        if self.cfg.checkpoints.save_training_state != "off":
            self._save_state(global_step, micro, draws, syncs, acc)
        self._cleanup()
        return path

    # -- loop --------------------------------------------------------------------------------------------------
    def train(
        self, max_micro_steps: int | None = None, on_step: Callable[[dict[str, Any]], None] | None = None
    ) -> TrainingResult:
        """Run (or resume) training; ``max_micro_steps`` stops early (tests of resume), without a final save."""
        cfg, opt_cfg = self.cfg, self.cfg.optimization
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "training_config.yaml").write_text(dump_config(cfg))
        gas = opt_cfg.gradient_accumulation_steps
        acc = GradientAccumulator(gas)
        global_step, micro, draws, syncs = 0, 0, KeyDraws(cfg.seed), 0
        state = None if cfg.checkpoints.no_resume else self.latest_state()
        if state is not None:
            global_step, micro, draws, syncs = self._load_state(state, acc)
        total = opt_cfg.steps * gas
        losses: list[float] = []
        log = (self.output_dir / "training_log.jsonl").open("a")
        done = 0
        try:
            while micro < total:
                if max_micro_steps is not None and done >= max_micro_steps:
                    return TrainingResult(self.checkpoint_dir, global_step, losses)
                batch, last_of_epoch = self.dataset.batch(micro, opt_cfg.batch_size, cfg.seed)
                is_optimization_step = (micro + 1) % gas == 0
                if is_optimization_step:
                    global_step += 1
                per_sample, grads, _ = loss_and_grads(
                    self.model,
                    self.strategy,
                    batch,
                    self.sampler,
                    draws,
                    acc.loss_scale,
                    self.compute_dtype,
                    self.connectors,
                )
                mx.eval(per_sample, grads)
                loss = _float(per_sample.mean())
                losses.append(loss)
                if acc.add(grads, force_sync=last_of_epoch):
                    norm = optimizer_step(self.optimizer, self.model, acc.take(), opt_cfg, syncs)
                    syncs += 1
                    mx.eval(self.model.trainable_parameters(), self.optimizer.state)
                    if is_optimization_step:
                        record = {
                            "step": global_step,
                            "loss": loss,
                            "learning_rate": learning_rate_at(opt_cfg, syncs),
                            "grad_norm": _float(norm),
                        }
                        log.write(json.dumps(record) + "\n")
                        log.flush()
                        if on_step is not None:
                            on_step(record)
                micro += 1
                done += 1
                interval = cfg.checkpoints.interval
                if is_optimization_step and interval and global_step % interval == 0 and micro < total:
                    self._save_checkpoint(global_step, micro, draws, syncs, acc)
        finally:
            log.close()
        path = self._save_checkpoint(global_step, micro, draws, syncs, acc)
        return TrainingResult(path, global_step, losses)
