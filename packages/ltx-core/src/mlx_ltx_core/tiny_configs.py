"""The tiny test configs in one data file (``data/tiny_configs.json``).

Sections: ``model`` (the CLI's tiny random LTX-2.3), ``model_2.5`` (the tiny LTX-2.5's transformer), ``tests``
(package tests), ``goldens`` (the parity golden generators; tools/parity reads the file by path, since the reference
venv lacks this package).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY_CONFIGS_FILE = Path(__file__).parent / "data" / "tiny_configs.json"


def tiny_config(*keys: str) -> Any:
    """A fresh copy of the entry at ``keys``, e.g. ``tiny_config("model", "transformer")``."""
    entry = json.loads(TINY_CONFIGS_FILE.read_text())
    for key in keys:
        entry = entry[key]
    return entry
