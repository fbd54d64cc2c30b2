"""Checkpoint keys of the text projection (aggregate embeddings + A/V connectors); no tensor changes layout."""

from __future__ import annotations

from mlx_ltx_convert import prefixes


def text_projection_key(checkpoint_key: str) -> str | None:
    """``model.diffusion_model.video_embeddings_connector.X`` → ``video_embeddings_connector.X``,
    ``text_embedding_projection.X`` unchanged; None for keys of other components."""
    if checkpoint_key.startswith(prefixes.TEXT_PROJECTION):
        return checkpoint_key
    if checkpoint_key.startswith(prefixes.TEXT_CONNECTORS):
        return checkpoint_key[len(prefixes.TRANSFORMER) :]
    return None
