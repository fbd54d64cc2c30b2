"""Optimisation as the reference trainer does it (trainer.py 217-244, 704-775; trainer.md §5).

- ``make_optimizer``: torch AdamW's defaults on ``mlx.optimizers.AdamW`` — betas (0.9, 0.999), eps 1e-8,
  weight decay 0.01 (decoupled), **bias correction on** (MLX's default is off).
- ``learning_rate_at``: the torch scheduler of ``optimization.scheduler_type`` in closed form for the k-th
  optimizer step (k from 0), with the reference's defaults, overridable through ``scheduler_params``. The
  reference has no warm-up option. Accelerate steps the scheduler ``num_processes`` times per optimizer step.
- ``clip_grad_norm``: torch's ``clip_grad_norm_`` — global L2 norm, coefficient min(1, max / (norm + 1e-6)).
- ``GradientAccumulator``: Accelerate's accumulation — each micro-step's loss divided by the window length,
  gradients summed, the optimizer (and clipping, and the scheduler) acting only on the window's last micro-step.
"""

from __future__ import annotations

import math
from typing import Any, cast

import mlx.core as mx
import mlx.optimizers as optim
from mlx.utils import tree_flatten, tree_map

from mlx_ltx_trainer.config import OptimizationConfig

ADAMW_BETAS = (0.9, 0.999)
ADAMW_EPS = 1e-8
ADAMW_WEIGHT_DECAY = 0.01  # torch.optim.AdamW's default, which the reference uses

# scheduler_type → (its parameters with the reference's defaults as a function of total steps)
_SCHEDULER_PARAMS = {
    "constant": lambda steps: {},
    "linear": lambda steps: {"start_factor": 1.0, "end_factor": 0.1},
    "cosine": lambda steps: {"eta_min": 0.0},
    "cosine_with_restarts": lambda steps: {"T_0": steps // 4, "T_mult": 1, "eta_min": 5e-5},
    "polynomial": lambda steps: {"power": 1.0},
    "step": lambda steps: {"step_size": steps // 2, "gamma": 0.1},
}


def make_optimizer(cfg: OptimizationConfig) -> optim.AdamW:
    if cfg.optimizer_type != "adamw":
        raise ValueError(f"optimization.optimizer_type: {cfg.optimizer_type} is not available on MLX; use adamw")
    return optim.AdamW(
        learning_rate=cfg.learning_rate,
        betas=list(ADAMW_BETAS),
        eps=ADAMW_EPS,
        weight_decay=ADAMW_WEIGHT_DECAY,
        bias_correction=True,
    )


def scheduler_params(cfg: OptimizationConfig) -> dict[str, Any]:
    """The scheduler's parameters: the reference's defaults updated by ``scheduler_params`` (unknown keys raise)."""
    params = _SCHEDULER_PARAMS[cfg.scheduler_type](cfg.steps)
    unknown = sorted(set(cfg.scheduler_params) - set(params))
    if unknown:
        accepted = ", ".join(params) or "none"
        raise ValueError(
            f"optimization.scheduler_params: {', '.join(unknown)} not supported for {cfg.scheduler_type} "
            f"(accepted: {accepted})"
        )
    params |= cfg.scheduler_params
    if cfg.scheduler_type == "cosine_with_restarts" and (params["T_0"] < 1 or params["T_mult"] < 1):
        raise ValueError("optimization.scheduler_params: cosine_with_restarts needs T_0 >= 1 and T_mult >= 1")
    if cfg.scheduler_type == "step" and params["step_size"] < 1:
        raise ValueError("optimization.scheduler_params: step needs step_size >= 1 (steps >= 2)")
    return params


def learning_rate_at(cfg: OptimizationConfig, k: int, num_processes: int = 1) -> float:
    """The learning rate of the k-th optimizer step (k = 0 first), as the torch scheduler gives it after
    ``k·num_processes`` scheduler steps."""
    lr, steps, kind = cfg.learning_rate, cfg.steps, cfg.scheduler_type
    p = scheduler_params(cfg)
    t = k * num_processes
    if kind == "constant":
        return lr
    if kind == "linear":
        frac = min(t, steps) / steps
        return lr * (p["start_factor"] + (p["end_factor"] - p["start_factor"]) * frac)
    if kind == "cosine":
        return p["eta_min"] + (lr - p["eta_min"]) * (1 + math.cos(math.pi * t / steps)) / 2
    if kind == "cosine_with_restarts":
        t_0, mult = p["T_0"], p["T_mult"]
        if mult == 1:
            t_cur, t_i = t % t_0, t_0
        else:
            n = int(math.log(t / t_0 * (mult - 1) + 1, mult)) if t >= t_0 else 0
            t_cur, t_i = t - t_0 * (mult**n - 1) // (mult - 1), t_0 * mult**n
        return p["eta_min"] + (lr - p["eta_min"]) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
    if kind == "polynomial":
        return lr * (1 - min(t, steps) / steps) ** p["power"]
    if kind == "step":
        return lr * p["gamma"] ** (t // p["step_size"])
    raise ValueError(f"unknown scheduler_type {kind}")


def global_norm(grads: Any) -> mx.array:
    leaves = [cast(mx.array, g) for _, g in tree_flatten(grads)]
    return mx.sqrt(sum((mx.sum(mx.square(g.astype(mx.float32))) for g in leaves), mx.array(0.0)))


def clip_grad_norm(grads: Any, max_norm: float) -> tuple[Any, mx.array]:
    """(clipped grads, total norm before clipping); ``max_norm <= 0`` leaves them unchanged."""
    norm = global_norm(grads)
    if max_norm <= 0:
        return grads, norm
    coef = mx.minimum(max_norm / (norm + 1e-6), 1.0)

    def scale(g: mx.array) -> mx.array:
        return g * coef.astype(g.dtype)

    return tree_map(scale, grads), norm


class GradientAccumulator:
    """Sums ``grad(loss / window)`` over a window of micro-steps; ``add`` returns True when the window is full
    (then ``take`` hands over the summed gradients and resets)."""

    def __init__(self, steps: int):
        if steps < 1:
            raise ValueError(f"gradient_accumulation_steps={steps} must be >= 1")
        self.steps = steps
        self.count = 0
        self._sum: Any = None

    @property
    def loss_scale(self) -> float:
        return 1.0 / self.steps

    def add(self, grads: Any, force_sync: bool = False) -> bool:
        """``force_sync``: Accelerate also syncs on the last batch of the dataloader (an incomplete window)."""
        self._sum = grads if self._sum is None else tree_map(mx.add, self._sum, grads)
        self.count += 1
        return self.count == self.steps or force_sync

    @property
    def pending(self) -> Any:
        """The gradients summed so far in the open window (None when empty)."""
        return self._sum

    def restore(self, pending: Any, count: int) -> None:
        self._sum, self.count = pending, count

    def take(self) -> Any:
        out, self._sum, self.count = self._sum, None, 0
        return out


def optimizer_step(
    optimizer: optim.Optimizer, model: Any, grads: Any, cfg: OptimizationConfig, k: int, num_processes: int = 1
) -> mx.array:
    """Clip (when ``max_grad_norm > 0``), set the k-th step's learning rate and update; returns the norm."""
    grads, norm = clip_grad_norm(grads, cfg.max_grad_norm)
    optimizer.learning_rate = mx.array(learning_rate_at(cfg, k, num_processes), dtype=mx.float32)
    optimizer.update(model, grads)
    return norm
