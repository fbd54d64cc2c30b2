"""The text encoder must be the Gemma the checkpoint was trained with (ports ``_check_gemma_version`` of
ltx_core/text_encoders/gemma/encoders/encoder_configurator.py, v1.2.0).

The checkpoint side is what the transformer file's ``__metadata__`` says (recorded by ltx-convert in the
text_projection folder's ``mlx_ltx``): ``gemma_source_checkpoint`` (JSON, ``{"gemma_version": ...}``) and
``model_version``. The Gemma side is its config: a root-level ``gemma_version`` and ``model_type``. Here in core, with
the version table, because ltx-convert checks it before converting and ltx-text before loading.
"""

from __future__ import annotations

import logging
from typing import Any

from mlx_ltx_core.versions import parse_model_version

logger = logging.getLogger(__name__)

# From this version on a checkpoint must name its Gemma (the reference: below the 2.5 stamp, for pre-releases).
GEMMA_SOURCE_CHECKPOINT_REQUIRED_SINCE = (2, 4, 0)


class GemmaVersionError(ValueError):
    """The text encoder is not the one the checkpoint expects."""


def check_gemma_version(checkpoint: dict[str, Any], gemma_config: dict[str, Any], where: str) -> None:
    """Raise ``GemmaVersionError`` (one line) when the Gemma of ``gemma_config`` (at ``where``) is not the one the
    checkpoint's ``gemma_source_checkpoint`` names; a checkpoint without it must be older than 2.4 and use Gemma 3."""
    source = checkpoint.get("gemma_source_checkpoint")
    actual = gemma_config.get("gemma_version")
    version = checkpoint.get("model_version")
    if isinstance(source, dict):
        expected = source.get("gemma_version")
        if expected != actual:
            raise GemmaVersionError(
                f"{where}: this Gemma has gemma_version={actual!r} but the checkpoint was trained with "
                f"{expected!r}; pass the text encoder released with the model"
            )
        return
    if version is not None and parse_model_version(version) >= GEMMA_SOURCE_CHECKPOINT_REQUIRED_SINCE:
        if actual is None:  # the reference only warns when neither side names a version
            logger.warning(
                "checkpoint model_version=%r names no gemma_source_checkpoint and %s no gemma_version; "
                "not checked: make sure they belong together",
                version,
                where,
            )
            return
        raise GemmaVersionError(
            f"{where}: the checkpoint (model_version={version!r}) names no gemma_source_checkpoint.gemma_version "
            "to check this Gemma against; re-convert it from the released transformer file"
        )
    if gemma_config.get("model_type") not in ("gemma3", "gemma3_text"):  # gemma3_text: our text-only folders
        raise GemmaVersionError(
            f"{where}: model_type={gemma_config.get('model_type')!r}, but a checkpoint of model_version={version!r} "
            "(no gemma_source_checkpoint) uses Gemma 3; pass google/gemma-3-12b-it-qat-q4_0-unquantized"
        )
