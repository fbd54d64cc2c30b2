"""`ltx train CONFIG.yaml`: LoRA training from a reference-trainer YAML (mlx_ltx_trainer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli.errors import cli_errors


def train(
    config: Annotated[Path, typer.Argument(help="A training config in the reference trainer's YAML schema.")],
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the resolved config and exit (nothing trained).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train a LoRA: prints the resolved config, trains, checkpoints every checkpoints.interval steps (resumes
    from the newest training state in OUTPUT_DIR/checkpoints unless checkpoints.no_resume)."""
    with cli_errors(verbose):
        from mlx_ltx_trainer.config import dump_config, load_config

        if not config.is_file():
            raise ValueError(f"{config}: no such config file; pass a training YAML")
        cfg = load_config(config)  # schema, paths, refused keys: one line naming the key
        typer.echo(dump_config(cfg), nl=False)
        if print_config:
            return
        transformer = _transformer_folder(Path(cfg.model.model_path) if cfg.model else Path())

        import mlx.core as mx

        from mlx_ltx_core.model.transformer.loading import load_transformer
        from mlx_ltx_trainer.trainer import Trainer

        model = load_transformer(transformer, dtype=mx.float32)
        trainer = Trainer(cfg, model, connectors=_connectors(transformer.parent))

        def report(record: dict) -> None:
            if not quiet:
                typer.echo(
                    f"step {record['step']}/{cfg.optimization.steps} loss {record['loss']:.4f} "
                    f"lr {record['learning_rate']:.3g} grad-norm {record['grad_norm']:.3g}"
                )

        result = trainer.train(on_step=report)
        typer.echo(f"saved {result.lora_path}")


def _connectors(model_folder: Path):
    """The model's text connectors (its text_projection component), run in every step on the dataset's
    pre-connector features as the reference does; None when the folder has none (post-connector data)."""
    folder = model_folder / "text_projection"
    if not folder.is_dir():
        return None
    from mlx_ltx_text.loading import load_text_projection

    return load_text_projection(folder)


def _transformer_folder(path: Path) -> Path:
    """model.model_path as a model folder written by `ltx convert` (its transformer/) or a transformer folder."""
    if (path / "transformer").is_dir():
        return path / "transformer"
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise ValueError(
        f"model.model_path: {path} is not a model folder written by ltx convert; convert the checkpoint first "
        "(`ltx convert CHECKPOINT -o FOLDER`) and point model_path at FOLDER"
    )
