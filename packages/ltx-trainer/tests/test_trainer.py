"""The training loop on the tiny model and a precomputed dataset: the loss falls on a memorisable example, the
checkpoints follow interval / keep_last_n, and an interrupted run resumed from its state ends bit-for-bit where
an uninterrupted one does."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines.lora import load_lora
from mlx_ltx_trainer.config import parse_config
from mlx_ltx_trainer.data import PrecomputedDataset, write_sample_file
from mlx_ltx_trainer.lora import lora_weights
from mlx_ltx_trainer.trainer import Trainer


def _dataset(root: Path, n: int = 2) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        name = f"clip{i}.safetensors"
        write_sample_file(
            root / "latents" / name,
            {"latents": rng.standard_normal((128, 2, 2, 3)).astype(np.float32)},
            {"num_frames": 2, "height": 2, "width": 3, "fps": 24.0},
        )
        audio = rng.standard_normal((8, 5, 16)).astype(np.float32)
        write_sample_file(root / "audio_latents" / name, {"latents": audio}, {"num_time_steps": 5})
        write_sample_file(
            root / "conditions" / name,
            {
                "video_prompt_embeds": rng.standard_normal((6, 32)).astype(np.float32),
                "audio_prompt_embeds": rng.standard_normal((6, 16)).astype(np.float32),
                "prompt_attention_mask": np.array([1, 1, 1, 1, 0, 0], dtype=np.int32),
            },
            {},
        )


def _config(tmp_path: Path, **over) -> object:
    data = {
        "model": {"model_path": "unused"},
        "lora": {"rank": 4, "alpha": 4, "target_modules": ["to_q", "to_k", "to_v", "to_out.0"]},
        "training_strategy": {
            "name": "flexible",
            "video": {"is_generated": True, "latents_dir": "latents",
                      "conditions": [{"type": "first_frame", "probability": 0.5}]},
            "audio": {"is_generated": True, "latents_dir": "audio_latents"},
        },
        "optimization": {"learning_rate": 3e-3, "steps": 6, "batch_size": 1, "gradient_accumulation_steps": 1},
        "acceleration": {"mixed_precision_mode": "no"},
        "data": {"preprocessed_data_root": str(tmp_path / "data")},
        "checkpoints": {"interval": 2, "keep_last_n": 2, "precision": "float32"},
        "output_dir": str(tmp_path / "out"),
    }  # fmt: skip
    for key, value in over.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(data)


def test_dataset_reads_the_layout(tmp_path: Path) -> None:
    _dataset(tmp_path / "data", n=3)
    (tmp_path / "data" / "latents" / "extra.safetensors").write_bytes(b"")  # in one source only: not a sample
    ds = PrecomputedDataset(tmp_path / "data", {"conditions": "conditions", "latents": "video_latents"})
    assert ds.items == ["clip0.safetensors", "clip1.safetensors", "clip2.safetensors"]
    batch, last = ds.batch(0, 2, seed=1)
    assert batch["video_latents"]["latents"].shape == (2, 2, 2, 3, 128)
    assert last  # 3 samples, batch 2, drop-last: one batch per epoch
    assert batch["video_latents"]["num_frames"] == 2 and batch["video_latents"]["fps"] == 24.0
    assert ds.batch(0, 2, seed=1)[0]["conditions"]["video_prompt_embeds"].shape == (2, 6, 32)
    assert ds.batches_per_epoch(2) == 1


def test_loss_falls_and_checkpoints_rotate(goldens, tmp_path: Path) -> None:
    _dataset(tmp_path / "data", n=1)
    cfg = _config(tmp_path, optimization={"steps": 20, "learning_rate": 1e-2},
                  flow_matching={"timestep_sampling_mode": "uniform",
                                 "timestep_sampling_params": {"min_value": 0.5, "max_value": 0.5}},
                  checkpoints={"interval": 5})  # fmt: skip
    result = Trainer(cfg, goldens.plain()).train()
    losses = result.losses
    assert result.global_step == 20 and len(losses) == 20
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5]), losses
    names = sorted(p.name for p in (tmp_path / "out" / "checkpoints").iterdir())
    assert names == ["lora_weights_step_00015.safetensors", "lora_weights_step_00020.safetensors",
                     "training_state_step_00015.safetensors", "training_state_step_00020.safetensors"]  # fmt: skip
    log = [json.loads(line) for line in (tmp_path / "out" / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 21))
    lora = load_lora(result.lora_path)  # the pipelines' --lora-path loader
    assert len(lora.factors) == 4 * 6 and lora.metadata["lora_rank"] == "4"
    assert (tmp_path / "out" / "training_config.yaml").read_text().startswith("model:")


@pytest.mark.parametrize("accumulation", [1, 2])
def test_resume_is_bit_for_bit(goldens, tmp_path: Path, accumulation: int) -> None:
    _dataset(tmp_path / "data", n=3)  # 3 samples, batch 1: epochs end mid-window when accumulating 2
    over = {"optimization": {"gradient_accumulation_steps": accumulation}}
    cfg_a = _config(tmp_path, **over, output_dir=str(tmp_path / "a"))
    cfg_b = _config(tmp_path, **over, output_dir=str(tmp_path / "b"))
    a = Trainer(cfg_a, goldens.plain())
    a.train()
    first = Trainer(cfg_b, goldens.plain())
    first.train(max_micro_steps=3 * accumulation)  # killed after step 3: the last state is step 2
    resumed = Trainer(cfg_b, goldens.plain())
    assert resumed.latest_state() is not None and resumed.latest_state().name == "training_state_step_00002.safetensors"
    resumed.train()
    ours, ref = lora_weights(resumed.model), lora_weights(a.model)
    for name in ref:
        np.testing.assert_array_equal(np.array(ours[name]), np.array(ref[name]), err_msg=name)
    fa = mx.load(str(tmp_path / "a" / "checkpoints" / "lora_weights_step_00006.safetensors"))
    fb = mx.load(str(tmp_path / "b" / "checkpoints" / "lora_weights_step_00006.safetensors"))
    assert isinstance(fa, dict) and isinstance(fb, dict)
    assert all(np.array_equal(np.array(fa[k]), np.array(fb[k])) for k in fa)


def test_bf16_training_with_and_without_gradient_checkpointing(goldens, tmp_path: Path) -> None:
    """The shipped configs' setting (bf16 base, checkpointing on) trains, and checkpointing changes nothing."""
    _dataset(tmp_path / "data", n=1)
    runs = []
    for checkpointing in (False, True):
        cfg = _config(tmp_path, output_dir=str(tmp_path / f"out{checkpointing}"),
                      acceleration={"mixed_precision_mode": "bf16"},
                      optimization={"steps": 3, "enable_gradient_checkpointing": checkpointing})  # fmt: skip
        trainer = Trainer(cfg, goldens.plain())
        runs.append((trainer.train().losses, lora_weights(trainer.model)))
    (loss0, w0), (loss1, w1) = runs
    assert loss0 == loss1 and all(np.isfinite(loss0))
    assert all(v.dtype == mx.float32 for v in w1.values())
    for name in w0:
        np.testing.assert_array_equal(np.array(w1[name]), np.array(w0[name]), err_msg=name)
