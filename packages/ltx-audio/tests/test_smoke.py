"""Smoke test: the package imports on its own and every name in __all__ resolves."""

import importlib
import importlib.metadata

import mlx_ltx_audio


def test_version_matches_distribution() -> None:
    assert mlx_ltx_audio.__version__ == importlib.metadata.version("mlx-ltx-audio")


def test_all_names_resolve() -> None:
    module = importlib.import_module("mlx_ltx_audio")
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_dir_is_the_public_api() -> None:
    """Exports are lazy (PEP 562): dir() lists __all__ before any of them is imported."""
    assert dir(mlx_ltx_audio) == sorted(mlx_ltx_audio.__all__)
