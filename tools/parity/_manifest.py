"""Writing a goldens folder's manifest.json, for generators that cannot import ``_common`` (it turns torch's
autograd off, and the trainer's goldens need gradients)."""

from __future__ import annotations

import json
import os
from typing import Any


def write_json_manifest(out: str, manifest: dict[str, Any]) -> None:
    """OUT/manifest.json, then one line with the folder's file count and size."""
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    names = os.listdir(out)
    total = sum(os.path.getsize(os.path.join(out, n)) for n in names)
    print(f"wrote {len(names)} files, {total / 1024:.0f} KiB to {out}")
