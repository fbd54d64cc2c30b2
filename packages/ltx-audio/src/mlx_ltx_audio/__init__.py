"""mlx_ltx_audio: see the package README for the module map."""

from mlx_ltx_audio.api import decode_audio, encode_audio, encode_waveform
from mlx_ltx_audio.audio_io import Audio, AudioFileError, load_audio, save_wav
from mlx_ltx_audio.audio_vae import AudioDecoder, AudioEncoder, AudioVAEArgs, patchify, unpatchify
from mlx_ltx_audio.loader import build_vocoder, load_audio_decoder, load_audio_encoder, load_vocoder
from mlx_ltx_audio.ops import AudioProcessor
from mlx_ltx_audio.vocoder import Vocoder, VocoderArgs
from mlx_ltx_audio.vocoder_bwe import VocoderWithBWE, VocoderWithBWEArgs

__version__ = "0.1.0"

__all__ = [
    "Audio",
    "AudioDecoder",
    "AudioEncoder",
    "AudioFileError",
    "AudioProcessor",
    "AudioVAEArgs",
    "Vocoder",
    "VocoderArgs",
    "VocoderWithBWE",
    "VocoderWithBWEArgs",
    "__version__",
    "build_vocoder",
    "decode_audio",
    "encode_audio",
    "encode_waveform",
    "load_audio",
    "load_audio_decoder",
    "load_audio_encoder",
    "load_vocoder",
    "patchify",
    "save_wav",
    "unpatchify",
]
