"""Conditioning states (I2V, keyframes with attention strength, IC-LoRA reference, A2V frozen audio) against the
states the reference's latent tools, conditioning items and noiser build from the same inputs and noise."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_pipelines import (
    AudioLatentShape,
    AudioLatentTools,
    AudioPatchifier,
    ConditioningItemAttentionStrengthWrapper,
    GaussianNoiser,
    ModalitySpec,
    RecordedNoise,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
    VideoConditionByReferenceLatent,
    VideoLatentPatchifier,
    VideoLatentShape,
    VideoLatentTools,
    VideoPixelShape,
    build_state,
    downsample_mask_video_to_latent,
    modality_from_latent_state,
    timesteps_from_mask,
)

from ltx_testing import assert_parity
from pipelines_goldens import audio_to_mlx, audio_to_torch, case, cases, tensors, video_to_mlx, video_to_torch


def _item(doc: dict[str, Any], t: dict[str, np.ndarray]) -> Any:
    latent = video_to_mlx(t[doc["latent"]])
    kind = doc["type"]
    if kind == "latent_index":
        item = VideoConditionByLatentIndex(latent, doc["strength"], doc["latent_idx"])
    elif kind == "keyframe":
        item = VideoConditionByKeyframeIndex(latent, doc["frame_idx"], doc["strength"])
    elif kind == "reference":
        item = VideoConditionByReferenceLatent(latent, doc["downscale_factor"], strength=doc["strength"])
    else:
        raise AssertionError(f"unknown conditioning type {kind}")
    if "attention_mask" in doc:
        mask = doc["attention_mask"]
        item = ConditioningItemAttentionStrengthWrapper(item, mask if isinstance(mask, float) else mx.array(t[mask]))
    return item


def _tools(info: dict[str, Any]) -> tuple[VideoLatentTools, AudioLatentTools]:
    pixels = VideoPixelShape(1, *info["pixel_shape"], info["fps"])
    video = VideoLatentShape.from_pixel_shape(pixels, latent_channels=info["video_channels"])
    audio = AudioLatentShape.from_video_pixel_shape(pixels)
    return (
        VideoLatentTools(VideoLatentPatchifier(1), video, info["fps"]),
        AudioLatentTools(AudioPatchifier(1), audio),
    )


def _exact(actual: mx.array, expected: np.ndarray, label: str) -> None:
    np.testing.assert_array_equal(np.array(actual), expected, err_msg=label)


@pytest.mark.parametrize("name", cases("conditioning"))
def test_conditioning_state_matches_reference(name: str) -> None:
    info, t = case(name), tensors(name)
    vt, at = _tools(info)
    audio = info.get("audio")
    draws = [mx.array(t["inputs.video_noise" if audio else "inputs.noise"])]
    if audio:
        draws.append(mx.array(t["inputs.audio_noise"]))
    noiser = GaussianNoiser(RecordedNoise(draws))
    spec = ModalitySpec(conditionings=[_item(d, t) for d in info["items"]], noise_scale=info["noise_scale"])
    vs = build_state(spec, vt, noiser)
    sigma = mx.array([info["sigma"]], dtype=mx.float32)
    # positions, masks and timesteps are the reference's exactly; latents to float32 rounding of the noiser
    _exact(vs.positions, t["state.positions"], "positions")
    _exact(vs.denoise_mask, t["state.denoise_mask"], "denoise_mask")
    _exact(vs.clean_latent, t["state.clean_latent"], "clean_latent")
    assert_parity(vs.latent, t["state.latent"], 1e-6, "noised latent")
    if "state.attention_mask" in t:
        _exact(vs.attention_mask, t["state.attention_mask"], "attention_mask")
    else:
        assert vs.attention_mask is None
    _exact(timesteps_from_mask(vs.denoise_mask, sigma), t["state.timesteps"], "timesteps")
    modality = modality_from_latent_state(vs, mx.zeros((1, 12, 24)), sigma)
    _exact(modality.sigma, t["modality.sigma"], "Modality.sigma")
    _exact(modality.timesteps, t["modality.timesteps"], "Modality.timesteps")
    cleared = vt.clear_conditioning(vs)
    _exact(cleared.positions, t["cleared.positions"], "cleared positions")
    _exact(cleared.denoise_mask, t["cleared.denoise_mask"], "cleared denoise_mask")
    assert cleared.attention_mask is None
    assert_parity(video_to_torch(vt.unpatchify(cleared).latent), t["cleared.unpatchified"], 1e-6, "unpatchified")
    if audio:
        _check_frozen_audio(at, noiser, audio, t, sigma)
    if "mask_even.pixel" in t:
        _check_mask_downsampling(info, t)


def _check_frozen_audio(at: AudioLatentTools, noiser: GaussianNoiser, audio: dict, t: dict, sigma: mx.array) -> None:
    spec = ModalitySpec(
        frozen=True, noise_scale=audio["noise_scale"], initial_latent=audio_to_mlx(t[audio["initial_latent"]])
    )
    state = build_state(spec, at, noiser)
    assert state.frozen
    _exact(state.positions, t["audio.positions"], "audio positions")
    _exact(state.denoise_mask, t["audio.denoise_mask"], "audio denoise_mask (0: frozen)")
    assert_parity(state.latent, t["audio.latent"], 1e-6, "audio latent (noise scale 0 keeps it)")
    modality = modality_from_latent_state(state, mx.zeros((1, 12, 24)), sigma)
    _exact(modality.sigma, t["audio.modality.sigma"], "frozen audio Modality.sigma (0, v1.2.0)")
    _exact(modality.timesteps, t["audio.modality.timesteps"], "frozen audio timesteps")
    unpatchified = at.unpatchify(at.clear_conditioning(state)).latent
    assert_parity(audio_to_torch(unpatchified), t["audio.cleared.unpatchified"], 1e-6, "audio unpatchified")


def _check_mask_downsampling(info: dict, t: dict) -> None:
    for name, (f, h, w) in info["mask_latent_shapes"].items():
        pixel = mx.array(t[f"mask_{name}.pixel"][:, 0])  # (B, 1, F, H, W) → (B, F, H, W)
        ours = downsample_mask_video_to_latent(pixel, VideoLatentShape(1, 128, f, h, w))
        assert_parity(ours, t[f"mask_{name}.latent"], 1e-6, f"downsampled mask ({name})")
