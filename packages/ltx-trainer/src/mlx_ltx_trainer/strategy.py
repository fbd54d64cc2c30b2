"""The reference's flexible training strategy (ltx_trainer/training_strategies/flexible.py, v1.2.0) on MLX.

Per configured modality: patchify the clean latents x₀; if generated, σ from the sampler, ε ~ N(0, I) in the
latents' dtype, x_t = (1 − σ)·x₀ + σ·ε, target v = ε − x₀, per-token timesteps σ, loss mask all true; if frozen,
x₀ with σ = 0 and no loss. Intrinsic conditions (list order, one Bernoulli per sample each) make tokens clean
(timestep 0, out of the loss); reference conditions (one batch-wide draw) prepend clean reference tokens.
``compute_loss`` is the per-sample masked MSE summed over modalities (equal weights).

Batches are MLX-layout: video latents ``(B, F', H', W', C)``, audio latents ``(B, T, 16, 8)``; ``num_frames`` /
``height`` / ``width`` / ``fps`` are Python numbers; conditions hold the **post-connector** contexts
(``video_prompt_embeds``, ``audio_prompt_embeds``) and ``prompt_attention_mask`` (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlx.core as mx

from mlx_ltx_core.model.transformer import Modality
from mlx_ltx_pipelines.patchifiers import AudioPatchifier, VideoLatentPatchifier, get_pixel_coords
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS, AudioLatentShape, SpatioTemporalScaleFactors, VideoLatentShape
from mlx_ltx_trainer.config import (
    FirstFrameCondition,
    FlexibleStrategyConfig,
    MaskCondition,
    ModalityConfig,
    PrefixCondition,
    ReferenceCondition,
    SpatialCropCondition,
    SuffixCondition,
)
from mlx_ltx_trainer.draws import Draws
from mlx_ltx_trainer.timestep_samplers import TimestepSampler

DEFAULT_FPS = 24.0
AUDIO_MEL_BINS = 16
AUDIO_CHANNELS = 8


@dataclass(frozen=True)
class ModelInputs:
    """What the transformer gets and what the loss compares against (targets cover the target tokens only)."""

    video: Modality | None
    audio: Modality | None
    video_targets: mx.array | None
    audio_targets: mx.array | None
    video_loss_mask: mx.array | None
    audio_loss_mask: mx.array | None
    video_sigma: mx.array | None = None
    audio_sigma: mx.array | None = None


@dataclass(frozen=True)
class LatentData:
    latents: mx.array  # (B, tokens, C)
    num_frames: int
    height: int
    width: int
    fps: float


@dataclass(frozen=True)
class _Result:
    modality: Modality
    targets: mx.array | None
    loss_mask: mx.array | None


def _item(value: Any) -> Any:
    """A batch scalar: a Python number, or a collated (B,) array / list whose first entry is used."""
    if isinstance(value, mx.array):
        return value.reshape(-1)[0].item()
    if isinstance(value, list | tuple):
        return _item(value[0])
    return value


class FlexibleStrategy:
    """``prepare_training_inputs(batch, sampler, draws)`` → ``ModelInputs``; ``compute_loss`` → (B,) losses."""

    def __init__(
        self,
        config: FlexibleStrategyConfig,
        video_scale_factors: SpatioTemporalScaleFactors = VIDEO_SCALE_FACTORS,
        reference_scale_factors: tuple[int | None, int | None] = (None, None),
    ):
        self.config = config
        self.video_scale_factors = video_scale_factors
        # (spatial, temporal) of IC-LoRA references; the reference infers them from files relative to the working
        # directory, which with the shipped relative names finds nothing (trainer.md §3.10): (None, None).
        self.reference_spatial_scale_factor, self.reference_temporal_scale_factor = reference_scale_factors
        self._video_patchifier = VideoLatentPatchifier(patch_size=1)
        self._audio_patchifier = AudioPatchifier(patch_size=1)

    # -- inputs ------------------------------------------------------------------------------------------------
    def prepare_training_inputs(self, batch: dict[str, Any], sampler: TimestepSampler, draws: Draws) -> ModelInputs:
        """Video first, then audio: the draw order of the reference (trainer.md §3.11)."""
        video = self._process_modality(self.config.video, batch, "video", sampler, draws)
        audio = self._process_modality(self.config.audio, batch, "audio", sampler, draws)
        return ModelInputs(
            video=video.modality if video else None,
            audio=audio.modality if audio else None,
            video_targets=video.targets if video else None,
            audio_targets=audio.targets if audio else None,
            video_loss_mask=video.loss_mask if video else None,
            audio_loss_mask=audio.loss_mask if audio else None,
            video_sigma=video.modality.sigma if video else None,
            audio_sigma=audio.modality.sigma if audio else None,
        )

    def _process_modality(
        self, cfg: ModalityConfig | None, batch: dict[str, Any], key: str, sampler: TimestepSampler, draws: Draws
    ) -> _Result | None:
        if cfg is None:
            return None
        data = self.patchify_latent_data(batch[f"{key}_latents"], key)
        latents = data.latents
        b, n, _ = latents.shape
        conditions = batch["conditions"]
        context = conditions[f"{key}_prompt_embeds"]
        context_mask = conditions["prompt_attention_mask"]
        if cfg.is_generated:
            noisy, targets, timesteps, loss_mask, sigmas = self.initialize_noisy_target(latents, sampler, draws)
        else:  # frozen: clean latents, σ = 0, no loss
            noisy, targets, loss_mask = latents, None, None
            timesteps = mx.zeros((b, n), dtype=latents.dtype)
            sigmas = mx.zeros((b,), dtype=latents.dtype)
        if key == "video":
            positions = self.video_positions(data.num_frames, data.height, data.width, b, data.fps)
        else:
            positions = self.audio_positions(n, b)
        if cfg.is_generated:
            assert loss_mask is not None
            for cond in cfg.conditions:
                if not isinstance(cond, ReferenceCondition):
                    noisy, timesteps, loss_mask = self.apply_intrinsic_condition(
                        noisy, latents, timesteps, loss_mask, cond, data.height, data.width, batch, draws
                    )
        for cond in cfg.conditions:
            if isinstance(cond, ReferenceCondition):
                noisy, positions, timesteps, loss_mask = self.apply_reference_condition(
                    noisy, positions, timesteps, loss_mask, batch, cond, key, draws
                )
        modality = Modality(
            latent=noisy,
            sigma=sigmas,
            timesteps=timesteps,
            positions=positions,
            context=context,
            context_mask=context_mask,
        )
        return _Result(modality, targets, loss_mask)

    def patchify_latent_data(self, data: dict[str, Any], key: str) -> LatentData:
        latents = data["latents"]
        if key == "video":
            fps = data.get("fps")
            return LatentData(
                self._video_patchifier.patchify(latents),
                int(_item(data["num_frames"])),
                int(_item(data["height"])),
                int(_item(data["width"])),
                float(_item(fps)) if fps is not None else DEFAULT_FPS,
            )
        frames = int(_item(data.get("num_frames", latents.shape[1])))
        return LatentData(self._audio_patchifier.patchify(latents), frames, 1, 1, 1.0)

    @staticmethod
    def initialize_noisy_target(
        latents: mx.array, sampler: TimestepSampler, draws: Draws
    ) -> tuple[mx.array, mx.array, mx.array, mx.array, mx.array]:
        """(x_t, v = ε − x₀, timesteps (B, N), loss mask (B, N) all true, σ (B,)); draws σ then ε."""
        b, n, _ = latents.shape
        sigmas = sampler.sample_for(latents, draws)
        noise = draws.randn(latents.shape, latents.dtype)
        s = sigmas.reshape(-1, 1, 1)
        noisy = (1 - s) * latents + s * noise
        targets = noise - latents
        timesteps = mx.broadcast_to(sigmas.reshape(-1, 1), (b, n))
        return noisy, targets, timesteps, mx.ones((b, n), dtype=mx.bool_), sigmas

    def apply_intrinsic_condition(
        self,
        noisy: mx.array,
        clean: mx.array,
        timesteps: mx.array,
        loss_mask: mx.array,
        cond: Any,
        height: int,
        width: int,
        batch: dict[str, Any],
        draws: Draws,
    ) -> tuple[mx.array, mx.array, mx.array]:
        """One ``rand(B) < probability`` per sample; the selected samples' masked tokens become clean."""
        b, n, _ = noisy.shape
        selected = draws.rand((b,)) < cond.probability
        if not bool(mx.any(selected).item()):
            return noisy, timesteps, loss_mask
        if isinstance(cond, FirstFrameCondition):
            mask = self.temporal_mask(b, n, height, width, 1, from_end=False)
        elif isinstance(cond, PrefixCondition):
            mask = self.temporal_mask(b, n, height, width, cond.temporal_boundary, from_end=False)
        elif isinstance(cond, SuffixCondition):
            mask = self.temporal_mask(b, n, height, width, cond.temporal_boundary, from_end=True)
        elif isinstance(cond, SpatialCropCondition):
            mask = self.spatial_crop_mask(b, n, height, width, cond.spatial_region, self.video_scale_factors)
        elif isinstance(cond, MaskCondition):
            mask = (batch[cond.mask_dir]["mask"].reshape(b, n) > 0.5).astype(mx.float32)
        else:
            raise ValueError(f"unknown intrinsic condition {type(cond).__name__}")
        mask = mask * selected.reshape(-1, 1).astype(mask.dtype)
        m = mask[..., None]
        noisy = m * clean + (1 - m) * noisy
        timesteps = (1 - mask) * timesteps
        loss_mask = loss_mask & (mask == 0)
        return noisy, timesteps, loss_mask

    @staticmethod
    def temporal_mask(b: int, n: int, height: int, width: int, frames: int, from_end: bool) -> mx.array:
        """(B, N) float: the first (or last) ``frames·H'·W'`` tokens (all of them when that exceeds N)."""
        k = min(frames * height * width, n)
        idx = mx.arange(n)
        row = (idx >= n - k) if from_end else (idx < k)
        return mx.broadcast_to(row.astype(mx.float32)[None], (b, n))

    @staticmethod
    def spatial_crop_mask(
        b: int,
        n: int,
        height: int,
        width: int,
        region: tuple[int, int, int, int],
        scale: SpatioTemporalScaleFactors,
    ) -> mx.array:
        """(B, N) float: the latent box [y1//s, y2//s) × [x1//s, x2//s), clamped to the grid, in every frame."""
        y1, x1, y2, x2 = region

        def latent(v: int, s: int, limit: int) -> int:
            return max(0, min(v // s, limit))

        ly1, ly2 = latent(y1, scale.height, height), latent(y2, scale.height, height)
        lx1, lx2 = latent(x1, scale.width, width), latent(x2, scale.width, width)
        ys, xs = mx.arange(height)[:, None], mx.arange(width)[None, :]
        box = ((ys >= ly1) & (ys < ly2) & (xs >= lx1) & (xs < lx2)).astype(mx.float32).reshape(-1)
        frames = n // (height * width)
        return mx.broadcast_to(mx.tile(box, (frames,))[None], (b, frames * height * width))

    def apply_reference_condition(
        self,
        noisy: mx.array,
        positions: mx.array,
        timesteps: mx.array,
        loss_mask: mx.array | None,
        batch: dict[str, Any],
        cond: ReferenceCondition,
        key: str,
        draws: Draws,
    ) -> tuple[mx.array, mx.array, mx.array, mx.array | None]:
        """One batch-wide ``rand(()) < probability``; clean reference tokens (timestep 0, no loss) prepended."""
        if not (draws.rand(()) < cond.probability).item():
            return noisy, positions, timesteps, loss_mask
        ref = self.patchify_latent_data(batch[cond.latents_dir], key)
        b, m, _ = ref.latents.shape
        if key == "video":
            ref_positions = self.video_positions(ref.num_frames, ref.height, ref.width, b, ref.fps)
            spatial = self.reference_spatial_scale_factor or 1
            temporal = self.reference_temporal_scale_factor or 1
            if temporal != 1:
                t_target = positions[:, 0, 0:1, 1:2]  # = 1 / target fps
                shifted = mx.maximum(ref_positions[:, 0:1] - (temporal - 1) * t_target[:, None], 0)
                ref_positions = mx.concatenate([shifted, ref_positions[:, 1:]], axis=1)
            if spatial != 1:
                ref_positions = mx.concatenate([ref_positions[:, :1], ref_positions[:, 1:] * spatial], axis=1)
        else:
            ref_positions = self.audio_positions(m, b)
        ref_timesteps = mx.zeros((b, m), dtype=ref.latents.dtype)
        latents = mx.concatenate([ref.latents, noisy], axis=1)  # promotes like torch.cat
        positions = mx.concatenate([ref_positions, positions], axis=2)
        timesteps = mx.concatenate([ref_timesteps, timesteps], axis=1)
        if loss_mask is not None:
            loss_mask = mx.concatenate([mx.zeros((b, m), dtype=mx.bool_), loss_mask], axis=1)
        return latents, positions, timesteps, loss_mask

    # -- positions ---------------------------------------------------------------------------------------------
    def video_positions(self, frames: int, height: int, width: int, b: int, fps: float) -> mx.array:
        """(B, 3, N, 2) float32: latent bounds → pixel bounds (causal fix), time in seconds."""
        shape = VideoLatentShape(batch=b, channels=128, frames=frames, height=height, width=width)
        latent = self._video_patchifier.get_patch_grid_bounds(shape)
        pixel = get_pixel_coords(latent, self.video_scale_factors, causal_fix=True).astype(mx.float32)
        return mx.concatenate([pixel[:, :1] / fps, pixel[:, 1:]], axis=1)

    def audio_positions(self, steps: int, b: int) -> mx.array:
        """(B, 1, T, 2) seconds."""
        shape = AudioLatentShape(batch=b, channels=AUDIO_CHANNELS, frames=steps, mel_bins=AUDIO_MEL_BINS)
        return self._audio_patchifier.get_patch_grid_bounds(shape)

    # -- loss --------------------------------------------------------------------------------------------------
    def compute_loss(self, video_pred: mx.array | None, audio_pred: mx.array | None, inputs: ModelInputs) -> mx.array:
        """(B,) = Σ over the trained modalities of the masked MSE (mean over unmasked tokens and channels)."""
        total = None
        for pred, targets, mask in (
            (video_pred, inputs.video_targets, inputs.video_loss_mask),
            (audio_pred, inputs.audio_targets, inputs.audio_loss_mask),
        ):
            if pred is None or targets is None or mask is None:
                continue
            loss = modality_loss(pred, targets, mask)
            total = loss if total is None else total + loss
        if total is None:
            raise ValueError("no predictions with targets: nothing to compute a loss on")
        return total

    def get_checkpoint_metadata(self) -> dict[str, Any]:
        """IC-LoRA scale factors for inference pipelines (only those ≠ 1)."""
        out: dict[str, Any] = {}
        spatial, temporal = self.reference_spatial_scale_factor, self.reference_temporal_scale_factor
        if spatial is not None and spatial != 1:
            out["reference_spatial_scale_factor"] = spatial
            out["reference_downscale_factor"] = spatial
        if temporal is not None and temporal != 1:
            out["reference_temporal_scale_factor"] = temporal
        return out


def modality_loss(pred: mx.array, targets: mx.array, loss_mask: mx.array) -> mx.array:
    """mean(e·m) / clamp(mean(m), 1e-8) per sample over the last ``len(targets)`` tokens (reference tokens
    dropped); e = (pred − target)² in float32."""
    n = targets.shape[1]
    pred = pred[:, -n:, :].astype(mx.float32)
    m = loss_mask[:, -n:].astype(mx.float32)[..., None]
    err = mx.square(pred - targets.astype(mx.float32)) * m
    return mx.mean(err, axis=(-2, -1)) / mx.maximum(mx.mean(m, axis=(-2, -1)), 1e-8)
