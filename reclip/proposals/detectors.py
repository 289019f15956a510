"""torchvision's COCO detectors as proposal sources: ``fasterrcnn[:WEIGHTS]``, ``maskrcnn[:WEIGHTS]``.

The v2 ResNet-50 FPN models. Weights come from a local file or torchvision's cache
(``torch.hub.get_dir()/checkpoints/<file>``); nothing is ever downloaded: when the file is
missing, ``MissingWeightsError`` says which, where it was looked for and how to fetch it.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.proposals.facts import SourceOption, SourceFacts, declare
from reclip.proposals.sources import PROPOSAL_SOURCES

if TYPE_CHECKING:  # torch is imported when a model is built, not with the package
    import torch


class MissingWeightsError(ReclipError):
    """A model's weights file is not on this machine (and we never download)."""


@dataclass(frozen=True)
class Detector:
    name: str
    builder: str     # torchvision.models.detection.<builder>
    weights: str     # torchvision.models.detection.<weights enum>
    file: str        # the file torchvision caches
    masks: bool


DETECTORS = {
    "fasterrcnn": Detector("fasterrcnn", "fasterrcnn_resnet50_fpn_v2", "FasterRCNN_ResNet50_FPN_V2_Weights",
                           "fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth", masks=False),
    "maskrcnn": Detector("maskrcnn", "maskrcnn_resnet50_fpn_v2", "MaskRCNN_ResNet50_FPN_V2_Weights",
                         "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth", masks=True),
}
DEFAULT_DETECTOR = "maskrcnn"
MASK_THRESHOLD = 0.5


def cache_dir() -> Path:
    """Where torchvision keeps downloaded weights ($TORCH_HOME/hub/checkpoints by default)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def detector_fetch_command(detector: Detector) -> str:
    return (f"python -c \"import torchvision; torchvision.models.detection.{detector.builder}"
            f"(weights='DEFAULT')\"")


def weights_path(detector: Detector, weights: str | os.PathLike | None = None) -> Path:
    """The weights file to load: ``weights`` when given, else the one in torchvision's cache."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise MissingWeightsError(f"{detector.name} weights file not found: {path}")
        return path
    path = cache_dir() / detector.file
    if not path.is_file():
        raise MissingWeightsError(
            f"{detector.name} weights {detector.file} are missing: looked in {path.parent} (torchvision's "
            f"cache); fetch them on a machine with internet with: {detector_fetch_command(detector)} "
            f"(or pass a file: --proposals {detector.name}:PATH)"
        )
    return path


def coco_categories() -> list[str]:
    from torchvision.models.detection import FasterRCNN_ResNet50_FPN_V2_Weights

    return list(FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1.meta["categories"])


def torch_device(device: str | None) -> torch.device:
    """``device``, or CUDA when present, else CPU (as the CLIP models choose); a name torch
    does not parse, or a device this machine lacks, is refused (``resolve_device``)."""
    from reclip.clip.loading import resolve_device

    return resolve_device(device)


class DetectorSource:
    """Boxes (and Mask R-CNN's masks) of one torchvision detector.

    ``score_threshold`` drops weak detections, ``nms_iou`` suppresses overlapping boxes
    across labels (class-agnostic; the model's own NMS is per class), ``max_proposals``
    caps the count (highest scores kept). Other keyword options go to the torchvision
    model (``min_size``, ``rpn_post_nms_top_n_test``, ...). ``precision`` (fp32 / fp16 / bf16;
    None: fp16 on CUDA, fp32 elsewhere) is the autocast dtype of the forward
    (``reclip.clip.precision``); boxes and scores come back as float32.
    """

    def __init__(self, name: str, weights: str | None = None, *, score_threshold: float = 0.3,
                 max_proposals: int = 100, nms_iou: float = 0.7, device: str | None = None,
                 precision: str | None = None, **model_options: Any) -> None:
        from reclip.clip.precision import resolve_precision

        self.detector = DETECTORS[name]
        self.score_threshold = float(score_threshold)
        self.max_proposals = int(max_proposals)
        self.nms_iou = float(nms_iou)
        self.device = torch_device(device)
        self.precision = resolve_precision(precision, self.device)
        path = weights_path(self.detector, weights)
        self.model = _load_model(self.detector, path, model_options).to(self.device)
        self.labels = coco_categories()

    def __call__(self, image: Image.Image) -> list[Proposal]:
        return self.batch([image])[0]

    def batch(self, images: Sequence[Image.Image]) -> list[list[Proposal]]:
        """One forward pass over all ``images`` (a list of tensors, as torchvision batches)."""
        import torch

        from reclip.clip.precision import autocast

        tensors = [_to_tensor(image).to(self.device) for image in images]
        with torch.inference_mode(), autocast(self.precision, self.device):
            outputs = self.model(tensors)
        return [self._proposals(out, image.size) for out, image in zip(outputs, images)]

    def _proposals(self, out: dict[str, torch.Tensor], size: tuple[int, int]) -> list[Proposal]:
        import torch
        import torchvision

        w, h = size
        boxes, scores, labels = out["boxes"].float(), out["scores"].float(), out["labels"]
        boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                             boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
        keep = (scores >= self.score_threshold) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        index = torch.nonzero(keep).flatten()
        index = index[torchvision.ops.nms(boxes[index], scores[index], self.nms_iou)][: self.max_proposals]
        masks = (out["masks"][index, 0] > MASK_THRESHOLD).cpu().numpy() if "masks" in out else None
        boxes, scores, labels = boxes[index].cpu().numpy(), scores[index].cpu().numpy(), labels[index].cpu().numpy()
        return [Proposal([float(v) for v in boxes[i]], None if masks is None else masks[i],
                         self._label(int(labels[i])), float(scores[i])) for i in range(len(index))]

    def _label(self, category: int) -> str:
        return self.labels[category] if 0 <= category < len(self.labels) else str(category)


def _to_tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) float in 0..1, RGB: what torchvision's detectors take."""
    import torch

    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def _load_model(detector: Detector, path: Path, options: dict[str, Any]) -> torch.nn.Module:
    import torch
    from torchvision.models import detection

    builder: Callable[..., torch.nn.Module] = getattr(detection, detector.builder)
    try:
        # weights=None and weights_backbone=None: torchvision builds random layers, downloads nothing
        model = builder(weights=None, weights_backbone=None, num_classes=91, **options)
    except TypeError as exc:
        raise ReclipError(f"{detector.name}: bad model option: {exc}") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # a truncated download, another model's file, a non-checkpoint
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, pickle.UnpicklingError):   # torch's message is a paragraph on weights_only
            first = "torch cannot load it as a checkpoint (not a state dict file)"
        raise MissingWeightsError(f"{path} is not {detector.builder} weights: {first[:200]}") from None
    return model.eval()


def _factory(name: str) -> Callable[..., DetectorSource]:
    def make(weights: str | None = None, **options: Any) -> DetectorSource:
        return DetectorSource(name, weights, **options)

    make.__name__ = f"{name}_source"
    make.__doc__ = f"torchvision's {DETECTORS[name].builder} (COCO) as a proposal source."
    return make


# The options a detector spec takes (``maskrcnn?score_threshold=0.5``): ours, then the
# torchvision model's own that make sense at inference (any other is refused, not ignored).
DETECTOR_OPTIONS = (
    SourceOption("score_threshold", float, 0.3, 0, 1, "drop detections scoring below this"),
    SourceOption("max_proposals", int, 100, 1, None, "keep at most this many (highest scores)"),
    SourceOption("nms_iou", float, 0.7, 0, 1, "class-agnostic NMS: suppress boxes overlapping more than this"),
    SourceOption("min_size", int, 800, 32, 4096, "torchvision: resize the image's short side to this"),
    SourceOption("max_size", int, 1333, 32, 8192, "torchvision: cap the image's long side at this"),
    SourceOption("box_score_thresh", float, 0.05, 0, 1, "torchvision: the heads' score threshold"),
    SourceOption("box_nms_thresh", float, 0.5, 0, 1, "torchvision: the per-class NMS IoU"),
    SourceOption("box_detections_per_img", int, 100, 1, 10_000, "torchvision: detections per image"),
    SourceOption("rpn_pre_nms_top_n_test", int, 1000, 1, 100_000, "torchvision: RPN boxes before NMS"),
    SourceOption("rpn_post_nms_top_n_test", int, 1000, 1, 100_000, "torchvision: RPN boxes after NMS"),
)


def detector_facts(detector: Detector) -> SourceFacts:
    gives = {"boxes", "labels", "scores"} | ({"masks"} if detector.masks else set())
    return SourceFacts(gives=frozenset(gives), needs=("a weights file (torchvision's cache or WEIGHTS)", "a device"),
                       arg="WEIGHTS", options=DETECTOR_OPTIONS,
                       summary=f"torchvision's {detector.builder} (COCO)")


for _name, _detector in DETECTORS.items():
    PROPOSAL_SOURCES.add(_name, declare(_factory(_name), detector_facts(_detector)))
