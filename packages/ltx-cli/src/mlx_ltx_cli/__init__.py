"""mlx_ltx_cli: see the package README for the module map."""

__version__ = "0.2.0"

__all__ = ["__version__"]
