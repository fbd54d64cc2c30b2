"""The reference's YAML schema: all 16 shipped configs parse; errors are one line naming the key; what MLX cannot
honour is refused by key, never ignored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from mlx_ltx_trainer.config import (
    ConfigError,
    FirstFrameCondition,
    FlexibleStrategyConfig,
    MaskCondition,
    ReferenceCondition,
    SpatialCropCondition,
    TextToVideoConfig,
    check_paths,
    dump_config,
    load_config,
    parse_config,
    read_yaml,
    unsupported_keys,
)

CONFIGS = Path(__file__).parent / "data" / "reference_configs"
NAMES = sorted(p.name for p in CONFIGS.glob("*.yaml"))


def _minimal(**over) -> dict:
    data = {
        "model": {"model_path": "m.safetensors"},
        "lora": {},
        "data": {"preprocessed_data_root": "data"},
        "training_strategy": {"name": "flexible", "video": {"is_generated": True, "latents_dir": "latents"}},
    }
    data.update(over)
    return data


def test_sixteen_reference_configs_are_present() -> None:
    assert len(NAMES) == 16


@pytest.mark.parametrize("name", NAMES)
def test_reference_config_parses(name: str) -> None:
    cfg = parse_config(read_yaml(CONFIGS / name))
    assert isinstance(cfg.training_strategy, FlexibleStrategyConfig)
    assert cfg.lora is not None and cfg.lora.rank in (16, 32)
    assert cfg.optimization.learning_rate in (1e-4, 2e-4)  # YAML's "1e-4" is a string to PyYAML: coerced
    assert len(cfg.validation.samples) == 2
    problems = unsupported_keys(cfg)
    if name == "t2v_lora_low_vram.yaml":
        assert [p.split(":")[0] for p in problems] == [
            "optimization.optimizer_type",
            "acceleration.quantization",
            "acceleration.load_text_encoder_in_8bit",
            "acceleration.offload_optimizer_during_validation",
        ]
    else:
        assert problems == []
    assert parse_config(yaml.safe_load(dump_config(cfg))) == cfg  # the printed config reads back the same


def test_reference_conditions_parse_to_their_types() -> None:
    v2v = parse_config(read_yaml(CONFIGS / "v2v_ic_lora.yaml")).training_strategy
    assert isinstance(v2v, FlexibleStrategyConfig) and v2v.video is not None
    assert [type(c) for c in v2v.video.conditions] == [ReferenceCondition, FirstFrameCondition]
    assert v2v.video.conditions[1].probability == 0.2
    out = parse_config(read_yaml(CONFIGS / "video_outpainting_lora.yaml")).training_strategy
    assert isinstance(out, FlexibleStrategyConfig) and out.video is not None
    assert isinstance(out.video.conditions[0], SpatialCropCondition)
    assert out.video.conditions[0].spatial_region == (0, 0, 288, 576)
    inp = parse_config(read_yaml(CONFIGS / "audio_inpainting_lora.yaml")).training_strategy
    assert isinstance(inp, FlexibleStrategyConfig) and inp.audio is not None
    assert isinstance(inp.audio.conditions[0], MaskCondition)
    assert inp.get_data_sources() == {"conditions": "conditions", "audio_latents": "audio_latents",
                                      "audio_masks": "audio_masks"}  # fmt: skip


def test_defaults_are_the_reference_defaults() -> None:
    cfg = parse_config(_minimal())
    assert cfg.lora is not None and (cfg.lora.rank, cfg.lora.alpha, cfg.lora.dropout) == (64, 64, 0.0)
    assert cfg.lora.target_modules == ("to_k", "to_q", "to_v", "to_out.0")
    o = cfg.optimization
    assert (o.learning_rate, o.steps, o.batch_size, o.gradient_accumulation_steps) == (5e-4, 3000, 2, 1)
    assert (o.max_grad_norm, o.optimizer_type, o.scheduler_type) == (1.0, "adamw", "linear")
    assert cfg.acceleration.mixed_precision_mode == "bf16" and cfg.checkpoints.keep_last_n == 1
    assert cfg.validation.video_dims == (960, 544, 89) and cfg.validation.stg_blocks == (28,)
    assert cfg.flow_matching.timestep_sampling_mode == "shifted_logit_normal"
    assert (cfg.seed, cfg.output_dir) == (42, "outputs")
    legacy = parse_config(_minimal(training_strategy={}))  # a missing name means text_to_video
    assert isinstance(legacy.training_strategy, TextToVideoConfig)
    assert legacy.training_strategy.first_frame_conditioning_p == 0.1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"optimizer": {}}, r"^optimizer: unknown key"),
        ({"lora": {"rank": 1}}, r"^lora\.rank: must be >= 2 \(got 1\)$"),
        ({"lora": {"rnk": 4}}, r"^lora\.rnk: unknown key"),
        ({"lora": None}, r"^lora: a lora section is required"),
        ({"optimization": {"steps": "many"}}, r"^optimization\.steps: expected a number"),
        ({"optimization": {"scheduler_type": "exp"}}, r"^optimization\.scheduler_type: 'exp' is not one of"),
        ({"training_strategy": {"name": "flexible"}}, r"^training_strategy: at least one modality"),
        ({"training_strategy": {"name": "magic"}}, r"^training_strategy\.name: 'magic' is not one of"),
        (
            {"training_strategy": {"name": "flexible", "audio": {"is_generated": True, "latents_dir": "a",
                                                                  "conditions": [{"type": "first_frame"}]}}},
            r"^training_strategy\.audio\.conditions\[0\]: intrinsic condition 'first_frame' is not supported",
        ),
        (
            {"training_strategy": {"name": "flexible", "video": {"is_generated": True, "latents_dir": "l",
                                                                  "conditions": [{"type": "prefix"}]}}},
            r"^training_strategy\.video\.conditions\[0\]\.temporal_boundary: field required$",
        ),
        (
            {"training_strategy": {"name": "flexible", "video": {"is_generated": True, "latents_dir": "l",
                                                                  "conditions": [{"type": "first_frame",
                                                                                  "probability": 1.5}]}}},
            r"^training_strategy\.video\.conditions\[0\]\.probability: must be <= 1\.0",
        ),
        ({"validation": {"samples": [{"prompt": "p", "conditions": [{"type": "prefix"}]}]}},
         r"^validation\.samples\[0\]\.conditions\[0\]: exactly one of 'video' or 'audio'"),
        ({"validation": {"guidance_scale": 2.0, "video_cfg_scale": 3.0}}, r"^validation\.guidance_scale: deprecated"),
        ({"hub": {"push_to_hub": True}}, r"^hub\.hub_model_id: must be specified"),
        ({"model": {"model_path": "https://x/y.safetensors"}}, r"^model\.model_path: cannot be a URL"),
        ({"data": {}}, r"^data\.preprocessed_data_root: field required$"),
    ],
)  # fmt: skip
def test_invalid_configs_name_the_key(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(_minimal(**change))
    assert "\n" not in str(info.value)


def test_legacy_validation_fields_migrate() -> None:
    cfg = parse_config(_minimal(validation={"prompts": ["a", "b"], "guidance_scale": 4.0, "stg_scale": 2.0,
                                            "stg_mode": "stg_v"}))  # fmt: skip
    v = cfg.validation
    assert [s.prompt for s in v.samples] == ["a", "b"]
    assert (v.video_cfg_scale, v.audio_cfg_scale, v.video_stg_scale, v.audio_stg_scale) == (4.0, 4.0, 2.0, 0.0)


def test_paths_are_checked_like_the_reference(tmp_path: Path) -> None:
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"")
    root = tmp_path / "data"
    data = _minimal(model={"model_path": str(model)}, data={"preprocessed_data_root": str(root)},
                    output_dir=str(tmp_path / "out"))  # fmt: skip
    with pytest.raises(ConfigError, match=r"^data\.preprocessed_data_root: does not exist"):
        check_paths(parse_config(data))
    (root / "latents").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"required data directory 'conditions' does not exist"):
        check_paths(parse_config(data))
    (root / "conditions").mkdir()
    cfg = check_paths(parse_config(data))
    assert Path(cfg.output_dir).is_absolute() and cfg.data.preprocessed_data_root == str(root.resolve())
    missing = dataclasses.replace(parse_config(data), model=dataclasses.replace(cfg.model, model_path="nope"))
    with pytest.raises(ConfigError, match=r"^model\.model_path: does not exist"):
        check_paths(missing)


def test_load_config_refuses_what_mlx_cannot_honour(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text((CONFIGS / "t2v_lora_low_vram.yaml").read_text())
    with pytest.raises(ConfigError, match=r"^optimization\.optimizer_type: adamw8bit is bitsandbytes"):
        load_config(path, check_files=False)
    path.write_text("model: [1, 2\n")
    with pytest.raises(ConfigError, match=r"not valid YAML"):
        load_config(path, check_files=False)
