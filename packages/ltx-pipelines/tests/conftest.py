"""Makes this folder's ``pipelines_goldens`` helper importable by the tests (pytest runs in importlib mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
