"""mlx_ltx_convert: see the package README for the module map.

``convert(sources, output, ...)`` writes one model folder and ``verify(folder)`` recomputes every sha256; the Typer
``ltx-convert`` command is ``mlx_ltx_convert.cli.app`` (mounted as ``ltx convert`` by mlx-ltx-cli). Names import on
first use, so importing the package (or its cli) does not import MLX.
"""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_convert.convert import convert
    from mlx_ltx_convert.errors import ConversionError
    from mlx_ltx_convert.quantize import QuantizeOptions
    from mlx_ltx_convert.verify import verify

__version__ = "0.2.0"

__all__ = ["ConversionError", "QuantizeOptions", "__version__", "convert", "verify"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "convert": ".convert",
        "ConversionError": ".errors",
        "QuantizeOptions": ".quantize",
        "verify": ".verify",
    },
)
