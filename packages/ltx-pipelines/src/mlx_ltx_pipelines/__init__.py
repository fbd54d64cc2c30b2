"""mlx_ltx_pipelines: see the package README for the module map."""

__version__ = "0.1.0"

__all__ = ["__version__"]
