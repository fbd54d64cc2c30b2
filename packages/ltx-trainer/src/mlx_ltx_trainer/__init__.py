"""mlx_ltx_trainer: see the package README for the module map."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_trainer.checkpointing import enable_gradient_checkpointing
    from mlx_ltx_trainer.config import (
        ConfigError,
        FlexibleStrategyConfig,
        LoraConfig,
        ModalityConfig,
        OptimizationConfig,
        TrainerConfig,
        check_paths,
        check_supported,
        dump_config,
        load_config,
        parse_config,
        unsupported_keys,
    )
    from mlx_ltx_trainer.data import PrecomputedDataset, write_sample_file
    from mlx_ltx_trainer.draws import Draws, KeyDraws, RecordedDraws
    from mlx_ltx_trainer.lora import LoRALinear, inject_lora, load_lora_weights, lora_weights, save_lora
    from mlx_ltx_trainer.optim import (
        GradientAccumulator,
        clip_grad_norm,
        learning_rate_at,
        make_optimizer,
        optimizer_step,
    )
    from mlx_ltx_trainer.step import loss_and_grads, model_forward
    from mlx_ltx_trainer.strategy import FlexibleStrategy, ModelInputs
    from mlx_ltx_trainer.timestep_samplers import (
        ShiftedLogitNormalTimestepSampler,
        UniformTimestepSampler,
        make_sampler,
    )
    from mlx_ltx_trainer.trainer import Trainer, TrainingResult

__version__ = "0.2.0"

__all__ = [
    "ConfigError",
    "Draws",
    "FlexibleStrategy",
    "FlexibleStrategyConfig",
    "GradientAccumulator",
    "KeyDraws",
    "LoRALinear",
    "LoraConfig",
    "ModalityConfig",
    "ModelInputs",
    "OptimizationConfig",
    "PrecomputedDataset",
    "RecordedDraws",
    "ShiftedLogitNormalTimestepSampler",
    "Trainer",
    "TrainerConfig",
    "TrainingResult",
    "UniformTimestepSampler",
    "__version__",
    "check_paths",
    "check_supported",
    "clip_grad_norm",
    "dump_config",
    "enable_gradient_checkpointing",
    "inject_lora",
    "learning_rate_at",
    "load_config",
    "load_lora_weights",
    "lora_weights",
    "loss_and_grads",
    "make_optimizer",
    "make_sampler",
    "model_forward",
    "optimizer_step",
    "parse_config",
    "save_lora",
    "unsupported_keys",
    "write_sample_file",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "enable_gradient_checkpointing": ".checkpointing",
        "ConfigError": ".config",
        "FlexibleStrategyConfig": ".config",
        "LoraConfig": ".config",
        "ModalityConfig": ".config",
        "OptimizationConfig": ".config",
        "TrainerConfig": ".config",
        "check_paths": ".config",
        "check_supported": ".config",
        "dump_config": ".config",
        "load_config": ".config",
        "parse_config": ".config",
        "unsupported_keys": ".config",
        "PrecomputedDataset": ".data",
        "write_sample_file": ".data",
        "Draws": ".draws",
        "KeyDraws": ".draws",
        "RecordedDraws": ".draws",
        "LoRALinear": ".lora",
        "inject_lora": ".lora",
        "load_lora_weights": ".lora",
        "lora_weights": ".lora",
        "save_lora": ".lora",
        "GradientAccumulator": ".optim",
        "clip_grad_norm": ".optim",
        "learning_rate_at": ".optim",
        "make_optimizer": ".optim",
        "optimizer_step": ".optim",
        "loss_and_grads": ".step",
        "model_forward": ".step",
        "FlexibleStrategy": ".strategy",
        "ModelInputs": ".strategy",
        "Trainer": ".trainer",
        "TrainingResult": ".trainer",
        "ShiftedLogitNormalTimestepSampler": ".timestep_samplers",
        "UniformTimestepSampler": ".timestep_samplers",
        "make_sampler": ".timestep_samplers",
    },
)
