"""`ltx train` end to end on the tiny model: a precomputed dataset → a few LoRA steps → the LoRA file, which
`ltx generate --lora-path` loads and which changes the output; bad configs are one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cli_testing import run_ltx


def _dataset(root: Path) -> None:
    from mlx_ltx_trainer.data import write_sample_file

    rng = np.random.default_rng(0)
    write_sample_file(root / "latents" / "a.safetensors", {"latents": rng.standard_normal((8, 2, 2, 3), "float32")},
                      {"num_frames": 2, "height": 2, "width": 3, "fps": 24.0})  # fmt: skip
    write_sample_file(root / "audio_latents" / "a.safetensors", {"latents": rng.standard_normal((2, 5, 16), "float32")},
                      {"num_time_steps": 5})  # fmt: skip
    # text features before the connectors (which `ltx train` runs in every step), 128 tokens = the tiny
    # connectors' register count (real data: 1024), left-padded as the tokenizer does
    mask = np.r_[np.zeros(100, np.int32), np.ones(28, np.int32)]
    write_sample_file(
        root / "conditions" / "a.safetensors",
        {"video_prompt_embeds": rng.standard_normal((128, 32), "float32"),
         "audio_prompt_embeds": rng.standard_normal((128, 16), "float32"),
         "prompt_attention_mask": mask},
        {},
    )  # fmt: skip


def _config(tmp_path: Path, model: Path, name: str = "train", **extra) -> Path:
    cfg = {
        "model": {"model_path": str(model), "training_mode": "lora"},
        "lora": {"rank": 4, "alpha": 4, "target_modules": ["to_q", "to_k", "to_v", "to_out.0"]},
        "training_strategy": {"name": "flexible", "video": {"is_generated": True, "latents_dir": "latents"},
                              "audio": {"is_generated": True, "latents_dir": "audio_latents"}},
        "optimization": {"learning_rate": "5e-2", "steps": 3, "batch_size": 1},
        "data": {"preprocessed_data_root": str(tmp_path / "data")},
        "validation": {"interval": None},
        "checkpoints": {"precision": "float32"},
        "output_dir": str(tmp_path / "out"),
        **extra,
    }  # fmt: skip
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_train_then_generate_with_the_lora(tiny, ltx_cache: Path, tmp_path: Path) -> None:
    model, _ = tiny
    _dataset(tmp_path / "data")
    config = _config(tmp_path, model)
    done = run_ltx(["train", config, "-q"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("model:") and "learning_rate: 0.05" in done.stdout  # the resolved config
    lora = tmp_path / "out" / "checkpoints" / "lora_weights_step_00003.safetensors"
    assert done.stdout.strip().endswith(f"saved {lora}") and lora.is_file()
    outputs = []
    for extra in ([], ["--lora-path", str(lora)]):
        out = tmp_path / f"gen{len(outputs)}.mp4"
        args = ["generate", "--model", "tiny", "-p", "a test", "--seed", "3", "-o", out, "-q", *extra]
        result = run_ltx(args, ltx_cache, tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] != outputs[1]  # the trained LoRA changes the video


def test_train_refuses_bad_configs_in_one_line(ltx_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    _dataset(tmp_path / "data")
    cases = [
        (_config(tmp_path, tmp_path / "model", "q", acceleration={"quantization": "int8-quanto"}),
         "error: acceleration.quantization: int8-quanto is optimum-quanto"),
        (_config(tmp_path, tmp_path / "model", "r", lora={"rank": 1}), "error: lora.rank: must be >= 2 (got 1)"),
        (_config(tmp_path, tmp_path / "missing", "m"), "error: model.model_path: does not exist"),
        (_config(tmp_path, tmp_path / "model", "f"), "error: model.model_path: "),  # not a converted model folder
        (tmp_path / "none.yaml", "error: "),
    ]  # fmt: skip
    for config, message in cases:
        result = run_ltx(["train", config], ltx_cache, tmp_path)
        assert result.returncode == 2, (config.read_text() if config.exists() else config, result.stderr)
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "checkpoints").exists()
