"""``tiny_config`` of mlx_ltx_core/tiny_configs.py, loaded by path: the generators run in the reference venv,
without our packages (that module needs only the standard library)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_MODULE = Path(__file__).resolve().parents[2] / "packages" / "ltx-core" / "src" / "mlx_ltx_core" / "tiny_configs.py"
_spec = importlib.util.spec_from_file_location("_ltx_tiny_configs", _MODULE)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
tiny_config = _module.tiny_config
