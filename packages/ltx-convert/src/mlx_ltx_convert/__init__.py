"""mlx_ltx_convert: see the package README for the module map.

``mlx_ltx_convert.convert.convert(sources, output, ...)`` writes one model folder and
``mlx_ltx_convert.verify.verify(folder)`` recomputes every sha256; ``app`` is the Typer ``ltx-convert`` command
(mounted as ``ltx convert`` by mlx-ltx-cli). Importing the package does not import MLX.
"""

__version__ = "0.1.0"

from mlx_ltx_convert.cli import app
from mlx_ltx_convert.errors import ConversionError

__all__ = ["ConversionError", "__version__", "app"]
