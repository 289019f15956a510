"""Tiny random-weight OWLv2 and Grounding DINO models, saved with ``save_pretrained`` for tests and
benchmarks. Nothing downloads: configs are built here, tokenizers from vocab files written here,
and Grounding DINO's backbone is a tiny Swin built from its config (no timm, no pretrained weights)."""

from __future__ import annotations

import json
from pathlib import Path

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.,'-"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "the", "left", "right", "lion", "tree", "a",
         "man", "dog", "red", "cup", "on", "of", "big", "small", "next", "to", "cat", "car", "person"]


def _clip_tokenizer(folder: Path):
    """A character-level CLIP BPE tokenizer (no merges): every word is spelled out."""
    from transformers import CLIPTokenizer

    vocab = {c: i for i, c in enumerate(CHARS)}
    vocab.update({c + "</w>": len(CHARS) + i for i, c in enumerate(CHARS)})
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>")


def save_tiny_owlv2(folder: str | Path, seed: int = 0, image_size: int = 64) -> Path:
    """A random OWLv2 (2-layer 32-wide towers, 16 patches of 16 px) and its processor in ``folder``."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _clip_tokenizer(folder)
    n = len(tokenizer.get_vocab())
    tower = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)
    config = Owlv2Config(
        text_config=dict(tower, vocab_size=n, max_position_embeddings=16, bos_token_id=n - 2,
                         eos_token_id=n - 1, pad_token_id=n - 1),
        vision_config=dict(tower, image_size=image_size, patch_size=16), projection_dim=32)
    torch.manual_seed(seed)
    model = Owlv2ForObjectDetection(config).eval()
    with torch.no_grad():  # random heads saturate the box sigmoid; near zero, each patch boxes itself
        model.box_head.dense2.weight.mul_(0.01)
        model.box_head.dense2.bias.normal_(0.0, 0.5)
    model.save_pretrained(folder)
    image_processor = Owlv2ImageProcessor(size={"height": image_size, "width": image_size})
    Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def save_tiny_grounding_dino(folder: str | Path, seed: int = 0, max_text_len: int = 32) -> Path:
    """A random Grounding DINO (tiny Swin backbone, 1-layer 32-wide BERT, 10 queries) and its processor."""
    import torch
    from transformers import (
        BertConfig, BertTokenizerFast, GroundingDinoConfig, GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tokenizer = BertTokenizerFast(str(folder / "vocab.txt"))
    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
                          window_size=2, out_features=["stage2", "stage3", "stage4"])
    text = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64)
    config = GroundingDinoConfig(
        backbone_config=backbone, use_timm_backbone=False, use_pretrained_backbone=False, text_config=text,
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, num_queries=10, max_text_len=max_text_len,
        num_feature_levels=3, encoder_n_points=1, decoder_n_points=1)
    torch.manual_seed(seed)
    GroundingDinoForObjectDetection(config).eval().save_pretrained(folder)
    image_processor = GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def save_tiny_sam2(folder: str | Path, seed: int = 0) -> Path:
    """A random SAM 2 (a 5-block Hiera at 128 px, 32-wide neck and decoder) and its processor."""
    import torch
    from transformers import Sam2Config, Sam2ImageProcessor, Sam2Model, Sam2Processor
    from transformers.models.sam2.configuration_sam2 import Sam2HieraDetConfig, Sam2VisionConfig

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hiera = Sam2HieraDetConfig(
        hidden_size=8, num_attention_heads=1, image_size=[128, 128], blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[8, 16, 32, 64], num_attention_heads_per_stage=[1, 1, 1, 1],
        window_size_per_stage=[4, 4, 4, 4], global_attention_blocks=[3],
        window_positional_embedding_background_size=[2, 2])
    vision = Sam2VisionConfig(backbone_config=hiera, backbone_channel_list=[64, 32, 16, 8], fpn_hidden_size=32,
                              backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]])
    config = Sam2Config(vision_config=vision, prompt_encoder_config={"hidden_size": 32, "image_size": 128},
                        mask_decoder_config={"hidden_size": 32, "num_attention_heads": 2, "mlp_dim": 64,
                                             "iou_head_hidden_dim": 32})
    torch.manual_seed(seed)
    Sam2Model(config).eval().save_pretrained(folder)
    Sam2Processor(image_processor=Sam2ImageProcessor(size={"height": 128, "width": 128})).save_pretrained(folder)
    return folder
