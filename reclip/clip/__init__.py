"""CLIP models: specs, weights, checkpoints, loading, pixels and text, on open_clip."""

from reclip.clip.checkpoint import CHECKPOINT_FORMAT, is_reclip_checkpoint, save_checkpoint
from reclip.clip.loading import LoadedModel, load_model, load_models, model_config, model_from_config, wrap_model
from reclip.clip.pixels import OPENAI_MEAN, OPENAI_STD, square_pixels, to_square
from reclip.clip.specs import DEFAULT_ENSEMBLE, SYNTHETIC, SYNTHETIC_PATH, ModelLoadError, ModelSpec, parse_spec
from reclip.clip.text import encode_text, photo_prompt
from reclip.clip.weights import offline

__all__ = [
    "CHECKPOINT_FORMAT", "DEFAULT_ENSEMBLE", "LoadedModel", "ModelLoadError", "ModelSpec", "OPENAI_MEAN",
    "OPENAI_STD", "SYNTHETIC", "SYNTHETIC_PATH", "encode_text", "is_reclip_checkpoint", "load_model",
    "load_models", "model_config", "model_from_config", "offline", "parse_spec", "photo_prompt",
    "save_checkpoint", "square_pixels", "to_square", "wrap_model",
]
