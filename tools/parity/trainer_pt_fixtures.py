#!/usr/bin/env python
"""Tiny `.pt` files as the reference trainer's preprocessing writes them (``torch.save`` of a plain dict), for the
restricted-unpickler tests of mlx_ltx_trainer.pt_import. Run with the reference venv:
  /work/refvenv/bin/python tools/parity/trainer_pt_fixtures.py packages/ltx-trainer/tests/data/reference_pt
Also writes ``expected.npz`` (the same values as numpy, float32 for bf16) to compare against."""

import os
import sys

import numpy as np
import torch

out = sys.argv[1]
g = torch.Generator().manual_seed(0)
latents = torch.randn(8, 2, 2, 3, generator=g).to(torch.bfloat16)
base = torch.randn(6, 32, generator=g)
files = {
    "latents/clip.pt": {"latents": latents, "num_frames": 2, "height": 2, "width": 3, "fps": 24.0},
    # a transposed view and an offset slice of one shared storage: strides and storage offsets
    "conditions/clip.pt": {
        "video_prompt_embeds": base.t().contiguous().t(),
        "audio_prompt_embeds": base[:, 16:],
        "prompt_attention_mask": torch.tensor([0, 0, 1, 1, 1, 1], dtype=torch.int64),
    },
    "audio_latents/clip.pt": {
        "latents": torch.randn(8, 5, 16, generator=g),
        "num_time_steps": 5,
        "frequency_bins": 16,
        "duration": 0.2,
    },
    "video_masks/clip.pt": {"mask": torch.ones(2, 2, 3, dtype=torch.bool)},
}
expected = {}
for rel, data in files.items():
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(data, path)
    for k, v in data.items():
        if isinstance(v, torch.Tensor):
            expected[f"{rel}:{k}"] = (v.float() if v.dtype == torch.bfloat16 else v).numpy()
np.savez(os.path.join(out, "expected.npz"), **expected)
