"""Text: the prompt CLIP reads for a find, and text encoding."""

from __future__ import annotations

import open_clip
import torch

PROMPT_PREFIX = "a photo of "


def photo_prompt(text: str) -> str:
    """ReCLIP's prompt for a find: ``"a photo of " + text.lower()`` (scoring and training alike)."""
    return PROMPT_PREFIX + text.lower()


def encode_text(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """``model.encode_text(tokens)``, skipping the padding after the longest text.

    CLIP's text transformer is causal and pools at the end-of-text token, so the
    positions after the last end-of-text token of the batch cannot change the result;
    dropping them makes a short prompt ~5x cheaper than the full 77-token context.
    Other text towers (custom/HF text, non-causal, other pooling) use encode_text as is.
    """
    usable = (type(model) is open_clip.CLIP and getattr(model, "attn_mask", None) is not None
              and model.text_pool_type == "argmax" and tokens.ndim == 2)
    if not usable:
        return model.encode_text(tokens)
    length = int(tokens.argmax(dim=-1).max().item()) + 1  # argmax: the EOT id is the largest
    tokens = tokens[:, :length]
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
    if isinstance(model.text_projection, torch.nn.Linear):
        return model.text_projection(x)
    return x @ model.text_projection if model.text_projection is not None else x
