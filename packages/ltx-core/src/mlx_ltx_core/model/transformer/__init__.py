"""The LTX-2 / LTX-2.3 / LTX-2.5 audio-video DiT (ports ltx_core/model/transformer)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.model.transformer.args import LTXModelArgs, LTXModelType
    from mlx_ltx_core.model.transformer.loading import load_transformer, save_transformer
    from mlx_ltx_core.model.transformer.modality import Modality
    from mlx_ltx_core.model.transformer.model import LTXModel, X0Model, to_denoised
    from mlx_ltx_core.model.transformer.quantization import quantize_transformer
    from mlx_ltx_core.model.transformer.rope import LTXRopeType

__all__ = [
    "LTXModel",
    "LTXModelArgs",
    "LTXModelType",
    "LTXRopeType",
    "Modality",
    "X0Model",
    "load_transformer",
    "quantize_transformer",
    "save_transformer",
    "to_denoised",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LTXModelArgs": ".args",
        "LTXModelType": ".args",
        "load_transformer": ".loading",
        "save_transformer": ".loading",
        "Modality": ".modality",
        "LTXModel": ".model",
        "X0Model": ".model",
        "to_denoised": ".model",
        "quantize_transformer": ".quantization",
        "LTXRopeType": ".rope",
    },
)
