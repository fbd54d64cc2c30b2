"""mlx_ltx_text: the LTX-2 / LTX-2.3 prompt encoder (Gemma 3 through mlx-lm, feature extractors, connectors,
prompt enhancement). See the package README for the module map."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_text.embeddings_connector import Embeddings1DConnector
    from mlx_ltx_text.embeddings_processor import (
        EmbeddingsProcessor,
        EmbeddingsProcessorArgs,
        EmbeddingsProcessorOutput,
        feature_extractor_version,
    )
    from mlx_ltx_text.enhance import clean_response, enhance_t2v, generate_enhanced_prompt, system_prompt
    from mlx_ltx_text.feature_extractor import FeatureExtractorV1, FeatureExtractorV2
    from mlx_ltx_text.gemma import gemma_hidden_states
    from mlx_ltx_text.gemma_loading import GemmaLoadError
    from mlx_ltx_text.loading import load_text_projection, save_text_projection
    from mlx_ltx_text.prompt_encoder import PromptEncoder
    from mlx_ltx_text.text_encoder import GemmaTextEncoder
    from mlx_ltx_text.tokenizer import GemmaTokenizerError, LTXGemmaTokenizer

__version__ = "0.2.0"

__all__ = [
    "Embeddings1DConnector",
    "EmbeddingsProcessor",
    "EmbeddingsProcessorArgs",
    "EmbeddingsProcessorOutput",
    "FeatureExtractorV1",
    "FeatureExtractorV2",
    "GemmaLoadError",
    "GemmaTextEncoder",
    "GemmaTokenizerError",
    "LTXGemmaTokenizer",
    "PromptEncoder",
    "__version__",
    "clean_response",
    "enhance_t2v",
    "feature_extractor_version",
    "gemma_hidden_states",
    "generate_enhanced_prompt",
    "load_text_projection",
    "save_text_projection",
    "system_prompt",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Embeddings1DConnector": ".embeddings_connector",
        "EmbeddingsProcessor": ".embeddings_processor",
        "EmbeddingsProcessorArgs": ".embeddings_processor",
        "EmbeddingsProcessorOutput": ".embeddings_processor",
        "feature_extractor_version": ".embeddings_processor",
        "clean_response": ".enhance",
        "enhance_t2v": ".enhance",
        "generate_enhanced_prompt": ".enhance",
        "system_prompt": ".enhance",
        "FeatureExtractorV1": ".feature_extractor",
        "FeatureExtractorV2": ".feature_extractor",
        "gemma_hidden_states": ".gemma",
        "GemmaLoadError": ".gemma_loading",
        "load_text_projection": ".loading",
        "save_text_projection": ".loading",
        "PromptEncoder": ".prompt_encoder",
        "GemmaTextEncoder": ".text_encoder",
        "GemmaTokenizerError": ".tokenizer",
        "LTXGemmaTokenizer": ".tokenizer",
    },
)
