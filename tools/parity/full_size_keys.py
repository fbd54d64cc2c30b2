#!/usr/bin/env python
"""Full-size LTX-2 / LTX-2.3 parameter keys and shapes, from the reference built on the meta device (no weights).

Writes OUT (default tests/data/full_size_keys.json): per model version, each component's config and its
checkpoint keys with shapes. Per-block keys are folded to ``transformer_blocks.{i}.`` (block 0's shapes, which
every block shares) to keep the file small; tests expand them with ``num_layers``.

Usage: python full_size_keys.py [--out FILE] [--ltx-core-src CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from ltx_core.model.transformer import LTXModelConfigurator

_REQUIRED = {
    "dropout": 0.0,
    "attention_bias": True,
    "num_vector_embeds": None,
    "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000,
    "use_linear_projection": False,
    "only_cross_attention": False,
    "cross_attention_norm": True,
    "double_self_attention": False,
    "upcast_attention": False,
    "standardization_norm": "rms_norm",
    "norm_elementwise_affine": False,
    "qk_norm": "rms_norm",
    "positional_embedding_type": "rope",
    "use_middle_indices_grid": True,
    "use_audio_video_cross_attention": True,
    "share_ff": False,
    "av_cross_ada_norm": True,
}
# Values from the checkpoints' __metadata__ as quoted by third-party ports (see shared/reference *.md, marked (C)).
LTX2_TRANSFORMER = {
    **_REQUIRED,
    "num_layers": 48,
    "num_attention_heads": 32,
    "attention_head_dim": 128,
    "cross_attention_dim": 4096,
    "caption_channels": 3840,
    "audio_num_attention_heads": 32,
    "audio_attention_head_dim": 64,
    "audio_cross_attention_dim": 2048,
    "in_channels": 128,
    "out_channels": 128,
    "audio_in_channels": 128,
    "audio_out_channels": 128,
    "norm_eps": 1e-6,
    "positional_embedding_theta": 10000.0,
    "positional_embedding_max_pos": [20, 2048, 2048],
    "audio_positional_embedding_max_pos": [20],
    "timestep_scale_multiplier": 1000,
    "av_ca_timestep_scale_multiplier": 1000.0,
    "rope_type": "split",
    "frequencies_precision": "float64",
    "causal_temporal_positioning": True,
}
LTX23_TRANSFORMER = {
    **LTX2_TRANSFORMER,
    "caption_proj_before_connector": True,
    "caption_projection_first_linear": False,
    "caption_proj_input_norm": False,
    "caption_projection_second_linear": False,
    "apply_gated_attention": True,
    "cross_attention_adaln": True,
}
MODELS = {"ltx-2": LTX2_TRANSFORMER, "ltx-2.3": LTX23_TRANSFORMER}


def transformer_entry(cfg: dict) -> dict:
    with torch.device("meta"):
        conf = LTXModelConfigurator
        model = (
            conf.from_metadata({"config": {"transformer": cfg}})
            if hasattr(conf, "from_metadata")
            else (conf.from_config({"transformer": cfg}))
        )
    keys: dict[str, list[int]] = {}
    for name, p in model.state_dict().items():
        m = re.match(r"transformer_blocks\.(\d+)\.(.*)", name)
        if m and m.group(1) != "0":
            continue
        folded = f"transformer_blocks.{{i}}.{m.group(2)}" if m else name
        keys["model.diffusion_model." + folded] = list(p.shape)
    return {
        "config": cfg,
        "num_params": sum(p.numel() for p in model.state_dict().values()),
        "num_tensors": len(model.state_dict()),
        "keys": keys,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/full_size_keys.json")
    ap.add_argument("--ltx-core-src", default=None)
    args = ap.parse_args()
    out = {"note": __doc__.splitlines()[0], "models": {}}
    if os.path.exists(args.out):  # other components may have been added by other scripts
        with open(args.out) as f:
            out = json.load(f)
    for version, cfg in MODELS.items():
        entry = out["models"].setdefault(version, {"components": {}})
        entry["components"]["transformer"] = transformer_entry(cfg)
        t = entry["components"]["transformer"]
        print(f"{version} transformer: {t['num_params']:,} params, {t['num_tensors']} tensors")
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
