"""mlx_ltx_pipelines: see the package README for the module map."""

from mlx_ltx_pipelines.conditioning import (
    ConditioningError,
    ConditioningItem,
    ConditioningItemAttentionStrengthWrapper,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
    VideoConditionByReferenceLatent,
    downsample_mask_video_to_latent,
)
from mlx_ltx_pipelines.denoisers import (
    Denoiser,
    DenoisingModel,
    FactoryGuidedDenoiser,
    GuidancePass,
    GuidedDenoiser,
    SimpleDenoiser,
    guidance_passes,
)
from mlx_ltx_pipelines.diffusion_steps import EulerDiffusionStep, Res2sDiffusionStep
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.euler_ancestral import (
    EulerAncestralDiffusionStep,
    EulerAncestralSampler,
    euler_ancestral_denoising_loop,
)
from mlx_ltx_pipelines.guiders import (
    CFGGuider,
    CFGStarRescalingGuider,
    LegacyStatefulAPGGuider,
    LtxAPGGuider,
    MultiModalGuider,
    MultiModalGuiderFactory,
    MultiModalGuiderParams,
    STGGuider,
    create_multimodal_guider_factory,
)
from mlx_ltx_pipelines.latent_tools import AudioLatentTools, VideoLatentTools
from mlx_ltx_pipelines.lora import LoRA, fuse_lora_weights, fuse_loras, load_lora, reference_downscale_factor
from mlx_ltx_pipelines.noisers import GaussianNoiser, NoiseSource, RecordedNoise, SeededNoise
from mlx_ltx_pipelines.patchifiers import AudioPatchifier, VideoLatentPatchifier
from mlx_ltx_pipelines.request import GenerationRequest
from mlx_ltx_pipelines.res2s import Res2sSampler, SDENoise, get_res2s_coefficients, res2s_audio_video_denoising_loop
from mlx_ltx_pipelines.samplers import (
    DiffusionStep,
    EulerSampler,
    LoopStep,
    Sampler,
    euler_denoising_loop,
    run_loop,
)
from mlx_ltx_pipelines.schedulers import (
    DISTILLED_SIGMA_VALUES,
    STAGE_2_DISTILLED_SIGMA_VALUES,
    LinearQuadraticScheduler,
    LTX2Scheduler,
    distilled_sigmas,
    stage_2_distilled_sigmas,
)
from mlx_ltx_pipelines.states import (
    ModalitySpec,
    build_state,
    create_noised_state,
    modality_from_latent_state,
    post_process_latent,
    state_with_conditionings,
    timesteps_from_mask,
)
from mlx_ltx_pipelines.types import (
    VIDEO_SCALE_FACTORS,
    AudioLatentShape,
    LatentState,
    SpatioTemporalScaleFactors,
    VideoLatentShape,
    VideoPixelShape,
)
from mlx_ltx_pipelines.validation import check_frame_rate, check_num_frames, check_resolution

__version__ = "0.1.0"

__all__ = [
    "DISTILLED_SIGMA_VALUES",
    "STAGE_2_DISTILLED_SIGMA_VALUES",
    "VIDEO_SCALE_FACTORS",
    "AudioLatentShape",
    "AudioLatentTools",
    "AudioPatchifier",
    "CFGGuider",
    "CFGStarRescalingGuider",
    "ConditioningError",
    "ConditioningItem",
    "ConditioningItemAttentionStrengthWrapper",
    "Denoiser",
    "DenoisingModel",
    "DiffusionStep",
    "EulerAncestralDiffusionStep",
    "EulerAncestralSampler",
    "EulerDiffusionStep",
    "EulerSampler",
    "FactoryGuidedDenoiser",
    "GaussianNoiser",
    "GenerationRequest",
    "GuidancePass",
    "GuidedDenoiser",
    "LTX2Scheduler",
    "LatentState",
    "LegacyStatefulAPGGuider",
    "LinearQuadraticScheduler",
    "LoRA",
    "LoopStep",
    "LtxAPGGuider",
    "ModalitySpec",
    "MultiModalGuider",
    "MultiModalGuiderFactory",
    "MultiModalGuiderParams",
    "NoiseSource",
    "ParameterError",
    "RecordedNoise",
    "Res2sDiffusionStep",
    "Res2sSampler",
    "SDENoise",
    "STGGuider",
    "Sampler",
    "SeededNoise",
    "SimpleDenoiser",
    "SpatioTemporalScaleFactors",
    "VideoConditionByKeyframeIndex",
    "VideoConditionByLatentIndex",
    "VideoConditionByReferenceLatent",
    "VideoLatentPatchifier",
    "VideoLatentShape",
    "VideoLatentTools",
    "VideoPixelShape",
    "__version__",
    "build_state",
    "check_frame_rate",
    "check_num_frames",
    "check_resolution",
    "create_multimodal_guider_factory",
    "create_noised_state",
    "distilled_sigmas",
    "downsample_mask_video_to_latent",
    "euler_ancestral_denoising_loop",
    "euler_denoising_loop",
    "fuse_lora_weights",
    "fuse_loras",
    "get_res2s_coefficients",
    "guidance_passes",
    "load_lora",
    "modality_from_latent_state",
    "post_process_latent",
    "reference_downscale_factor",
    "res2s_audio_video_denoising_loop",
    "run_loop",
    "stage_2_distilled_sigmas",
    "state_with_conditionings",
    "timesteps_from_mask",
]
