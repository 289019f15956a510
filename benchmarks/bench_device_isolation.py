"""How far isolating on the device (``ClipScorer(isolate="device")``) moves the logits from the CPU
path's (ReCLIP's, the default): crop + blur, the project's shipped synthetic CLIP model, on
synthetic scenes with their objects as proposals and "<colour> <shape>" texts.

Prints the squares' pixel difference (0-255, over every crop and blur square), the logits' largest
and mean absolute difference, the largest difference as a share of each text's logit spread
(max - min over the proposals), and how often the argmax (the chosen proposal) is the same. The
isolated images are the same pixels on both paths; only the resize differs (PIL bicubic against
torch's antialiased bicubic). ``--device cuda`` runs the device path there.

Run: ``python -m benchmarks.bench_device_isolation [--scenes 50] [--device cuda]``
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from interpreter import as_proposals
from reclip.clip.pixels import square_uint8
from reclip.isolation import isolate_many
from reclip.scoring import ClipScorer
from reclip.scoring.device_isolation import device_squares
from reclip.synthetic.expressions import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenes", type=int, default=30)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    cpu = ClipScorer.from_pretrained("synthetic", ("crop", "blur"), device=args.device, precision="fp32")
    dev = ClipScorer(cpu.models, ("crop", "blur"), isolate="device")
    size = cpu.models[0].image_size
    pixel_diffs, logit_diffs, shares, same, total = [], [], [], 0, 0
    for _, scene, _ in generate(0, args.scenes):
        boxes = [o.box for o in scene.objects]
        texts = sorted({f"{o.colour} {o.shape}" for o in scene.objects})
        for method in ("crop", "blur"):
            a = square_uint8(isolate_many(scene.image, as_proposals(boxes), method), size)
            b = device_squares(scene.image, as_proposals(boxes), method, size, args.device).cpu()
            pixel_diffs.append((a.float() - b.float()).abs().mean().item())
        x, y = cpu.score(scene.image, boxes, texts), dev.score(scene.image, boxes, texts)
        logit_diffs.append(np.abs(x - y))
        spread = (x.max(1) - x.min(1)).clip(1e-6)
        shares.extend(np.abs(x - y).max(1) / spread)
        same += int((x.argmax(1) == y.argmax(1)).sum())
        total += len(texts)
    diffs = np.concatenate([d.ravel() for d in logit_diffs])
    print(f"{args.scenes} scenes, {total} texts, model {cpu.models[0].name} ({size} px), device {args.device}")
    print(f"pixels: mean |CPU - device| {np.mean(pixel_diffs):.3f} of 255 per square")
    print(f"logits: max |diff| {diffs.max():.4f}, mean {diffs.mean():.4f}; largest diff / the text's spread: "
          f"max {100 * max(shares):.2f}%, mean {100 * float(np.mean(shares)):.2f}%")
    print(f"same argmax: {same}/{total} ({100 * same / total:.1f}%)")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    raise SystemExit(main())
