"""The key prefixes of a Lightricks single-file checkpoint, stated once (the reference's ``*_COMFY_KEYS_FILTER``).

Upscaler files hold their model's keys with no prefix; LoRA files prefix transformer module paths with
``LORA``.
"""

from __future__ import annotations

TRANSFORMER = "model.diffusion_model."
# Under the transformer's prefix but part of the text projection component (LTX-2 / LTX-2.3 A/V models).
VIDEO_CONNECTOR = TRANSFORMER + "video_embeddings_connector."
AUDIO_CONNECTOR = TRANSFORMER + "audio_embeddings_connector."
TEXT_CONNECTORS = (VIDEO_CONNECTOR, AUDIO_CONNECTOR)
# The video-only models' text connector: no pipeline reads it, so it is reported and not converted.
VIDEO_ONLY_CONNECTOR = TRANSFORMER + "embeddings_connector."
TEXT_PROJECTION = "text_embedding_projection."
# LTX-2.5's text-encoder file: Gemma 4's vision / audio embedders, which no LTX component reads.
GEMMA4_UNUSED = ("vision_model.", "multi_modal_projector.", "audio_projector.")
DURATION_HEAD = "duration_head."  # LTX-2.5's duration-head file

VAE_ENCODER = "vae.encoder."
VAE_DECODER = "vae.decoder."
VAE_STATISTICS = "vae.per_channel_statistics."  # read by both the video encoder and decoder
# LTX-2.5's split video VAE files (Comfy split): the same keys with no ``vae.`` prefix.
SPLIT_VAE_ENCODER, SPLIT_VAE_DECODER, SPLIT_VAE_STATISTICS = "encoder.", "decoder.", "per_channel_statistics."

AUDIO_VAE_ENCODER = "audio_vae.encoder."
AUDIO_VAE_DECODER = "audio_vae.decoder."
AUDIO_VAE_STATISTICS = "audio_vae.per_channel_statistics."  # read by both audio VAE halves

VOCODER = "vocoder."  # LTX-2.3 keys start ``vocoder.vocoder.`` (the BWE wrapper); the first one is dropped

LORA = "diffusion_model."
