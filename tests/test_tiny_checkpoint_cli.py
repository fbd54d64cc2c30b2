"""`ltx tiny-checkpoint DIR` writes the tiny model as a user downloads one (Lightricks files + its Gemma), and
`ltx convert` converts it from the CLI: the text projection sized from `--text-encoder-path` (issue 14 item 9)."""

from __future__ import annotations

import json

from cli_testing import run_ltx


def test_tiny_checkpoint_converts_from_the_cli_with_its_gemma(ltx_cache, tmp_path) -> None:
    written = run_ltx(["tiny-checkpoint", "tiny"], ltx_cache, tmp_path)
    assert written.returncode == 0, written.stderr
    files = [
        "tiny/ltx-2.3-tiny-random.safetensors",
        "tiny/ltx-2.3-tiny-spatial-upscaler-x2.safetensors",
        "tiny/ltx-2.3-tiny-spatial-upscaler-x1.5.safetensors",
        "tiny/ltx-2.3-tiny-temporal-upscaler-x2.safetensors",
        "tiny/ltx-2.3-tiny-distilled-lora.safetensors",
    ]
    refused = run_ltx(["convert", *files, "-o", "model"], ltx_cache, tmp_path)
    assert refused.returncode == 2 and "pass --text-encoder-path" in refused.stderr, refused.stderr
    assert not (tmp_path / "model").exists()
    converted = run_ltx(["convert", *files, "-o", "model", "--text-encoder-path", "tiny/gemma"], ltx_cache, tmp_path)
    assert converted.returncode == 0, converted.stderr
    info = run_ltx(["info", "model"], ltx_cache, tmp_path)
    assert info.returncode == 0, info.stderr
    upscalers = {p.name: json.loads((p / "config.json").read_text()) for p in (tmp_path / "model").glob("*upscaler*")}
    assert sorted(upscalers) == ["spatial_upscaler_x1.5", "spatial_upscaler_x2", "temporal_upscaler_x2"]
    assert upscalers["spatial_upscaler_x1.5"]["spatial_scale"] == 1.5
    assert upscalers["temporal_upscaler_x2"]["temporal_upsample"] is True
    config = json.loads((tmp_path / "model" / "text_projection" / "config.json").read_text())
    assert config["mlx_ltx"]["gemma"] == {"hidden_size": 32, "num_hidden_layers": 4}
    again = run_ltx(["tiny-checkpoint", "tiny"], ltx_cache, tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr  # nothing of a user's is overwritten
