"""mlx_ltx_text: the LTX-2 / LTX-2.3 / LTX-2.5 prompt encoder (Gemma 3 and Gemma 4 through mlx-lm, feature
extractors, connectors, the duration head, prompt enhancement). See the package README for the module map."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.gemma_version import GemmaVersionError, check_gemma_version
    from mlx_ltx_text.duration_head import DurationHead, DurationHeadArgs, load_duration_head, seconds_to_num_frames
    from mlx_ltx_text.embeddings_connector import Embeddings1DConnector
    from mlx_ltx_text.embeddings_processor import (
        EmbeddingsProcessor,
        EmbeddingsProcessorArgs,
        EmbeddingsProcessorOutput,
        feature_extractor_version,
    )
    from mlx_ltx_text.enhance import clean_response, enhance_t2v, generate_enhanced_prompt, system_prompt
    from mlx_ltx_text.enhance_gemma4 import Gemma4Enhancer, gemma4_system_prompt
    from mlx_ltx_text.feature_extractor import FeatureExtractorV1, FeatureExtractorV2
    from mlx_ltx_text.gemma import gemma_hidden_states
    from mlx_ltx_text.gemma4 import gemma4_hidden_states
    from mlx_ltx_text.gemma_loading import GemmaLoadError
    from mlx_ltx_text.loading import load_text_projection, save_text_projection
    from mlx_ltx_text.prompt_encoder import PromptEncoder
    from mlx_ltx_text.text_encoder import Gemma4TextEncoder, GemmaTextEncoder
    from mlx_ltx_text.tokenizer import GemmaTokenizerError, LTXGemmaTokenizer

__version__ = "0.2.0"

__all__ = [
    "DurationHead",
    "DurationHeadArgs",
    "Embeddings1DConnector",
    "EmbeddingsProcessor",
    "EmbeddingsProcessorArgs",
    "EmbeddingsProcessorOutput",
    "FeatureExtractorV1",
    "FeatureExtractorV2",
    "Gemma4Enhancer",
    "Gemma4TextEncoder",
    "GemmaLoadError",
    "GemmaTextEncoder",
    "GemmaTokenizerError",
    "GemmaVersionError",
    "LTXGemmaTokenizer",
    "PromptEncoder",
    "__version__",
    "check_gemma_version",
    "clean_response",
    "enhance_t2v",
    "feature_extractor_version",
    "gemma4_hidden_states",
    "gemma4_system_prompt",
    "gemma_hidden_states",
    "generate_enhanced_prompt",
    "load_duration_head",
    "load_text_projection",
    "save_text_projection",
    "seconds_to_num_frames",
    "system_prompt",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DurationHead": ".duration_head",
        "DurationHeadArgs": ".duration_head",
        "load_duration_head": ".duration_head",
        "seconds_to_num_frames": ".duration_head",
        "Embeddings1DConnector": ".embeddings_connector",
        "EmbeddingsProcessor": ".embeddings_processor",
        "EmbeddingsProcessorArgs": ".embeddings_processor",
        "EmbeddingsProcessorOutput": ".embeddings_processor",
        "feature_extractor_version": ".embeddings_processor",
        "clean_response": ".enhance",
        "enhance_t2v": ".enhance",
        "generate_enhanced_prompt": ".enhance",
        "system_prompt": ".enhance",
        "Gemma4Enhancer": ".enhance_gemma4",
        "gemma4_system_prompt": ".enhance_gemma4",
        "FeatureExtractorV1": ".feature_extractor",
        "FeatureExtractorV2": ".feature_extractor",
        "gemma_hidden_states": ".gemma",
        "gemma4_hidden_states": ".gemma4",
        "GemmaVersionError": "mlx_ltx_core.gemma_version",
        "check_gemma_version": "mlx_ltx_core.gemma_version",
        "GemmaLoadError": ".gemma_loading",
        "load_text_projection": ".loading",
        "save_text_projection": ".loading",
        "PromptEncoder": ".prompt_encoder",
        "GemmaTextEncoder": ".text_encoder",
        "Gemma4TextEncoder": ".text_encoder",
        "GemmaTokenizerError": ".tokenizer",
        "LTXGemmaTokenizer": ".tokenizer",
    },
)
