"""What a referring-expression evaluation run is: ``EvalConfig`` (everything the CLI
gives), ``--shard K/N`` and ``OUT/run.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from primitives import ReclipError
from reclip.files import make_folder, write_text
from reclip.proposals import spec_usage
from reclip.scoring.scorer import DEFAULT_METHODS

GT = "gt"
RUN = "run.json"
PREDICTIONS = "predictions.jsonl"
SKIPPED = "skipped.jsonl"
DEFAULT_MODELS = ("synthetic",)
PROPOSAL_CHOICES = (
    "choose the proposals: --proposals gt (the image's ground-truth boxes and masks; not a "
    "detector setting, ReCLIP's 'gold boxes') or --proposals FILE (detections matched by image id: "
    "ReCLIP/MAttNet {image_id: [[x, y, w, h], ...]}, [{image_id, box}], or COCO results "
    "[{image_id, bbox, score, segmentation?}]) or --proposals SPEC (a detector or SAM run on each "
    f"image: {spec_usage()})"   # from the registry: a registered source is listed
)
Shard = tuple[int, int]
RESUMABLE = ("limit",)       # settings a resumed run may change


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: the dataset (a ``reclip.datasets.FORMATS`` format, its ``files``, the
    image folder, the split), the proposals (``"gt"`` or a detections file), the scorer
    (model specs, isolation methods), ``baseline`` (the whole expression as one find: CLIP
    alone), ``limit`` (the first N expressions), ``gallery`` (a folder for failure pages) and
    ``workers`` (threads preparing images and their crops ahead of the scorer) and ``batch_size``
    (crops of several images per encoder forward when pipelined); rows depend on neither. Picklable, so shards can be sent to workers."""

    dataset: str
    files: dict[str, str]
    images: str
    proposals: str | None
    split: str | None = None
    models: tuple[str, ...] = DEFAULT_MODELS
    methods: tuple[str, ...] = DEFAULT_METHODS
    baseline: bool = False
    limit: int | None = None
    device: str | None = field(default=None, compare=False)
    proposal_cache: str | None = field(default=None, compare=False)
    precision: str | None = None          # reclip.clip.precision; None: the device's default
    gallery: str | None = field(default=None, compare=False)
    workers: int = field(default=0, compare=False)
    batch_size: int | None = field(default=None, compare=False)

    def check(self) -> None:
        """A ReclipError for what no run can use (no proposals named, a bad limit)."""
        if not self.proposals:
            raise ReclipError(f"no proposals given: {PROPOSAL_CHOICES}")
        if self.limit is not None and self.limit < 1:
            raise ReclipError(f"--limit must be at least 1, got {self.limit}")
        if self.workers < 0:
            raise ReclipError(f"--workers must be 0 (no pipeline) or more, got {self.workers}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ReclipError(f"--batch-size must be at least 1 crop, got {self.batch_size}")
        if not self.models or not self.methods:
            raise ReclipError("at least one --model and one --method are needed")

    @property
    def gt(self) -> bool:
        return self.proposals == GT

    def to_dict(self) -> dict[str, Any]:
        """The run's description (without the device, cache and gallery, which do not change the figures)."""
        d = asdict(self)
        for name in ("device", "proposal_cache", "gallery", "workers", "batch_size"):
            d.pop(name)
        if d["precision"] is None:      # runs recorded before the option had none
            d.pop("precision")
        d["models"], d["methods"] = list(self.models), list(self.methods)
        return d


def parse_shard(text: str | None) -> Shard | None:
    """``"K/N"`` (K in 1..N) as (K, N); None stays None."""
    if text is None:
        return None
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ReclipError(f"--shard must be K/N with whole numbers, e.g. 1/4; got {text!r}") from None
    return check_shard((k, n))


def check_shard(shard: Shard | None) -> Shard | None:
    if shard is not None:
        k, n = shard
        if not (n >= 1 and 1 <= k <= n):
            raise ReclipError(f"--shard K/N needs 1 <= K <= N, got {k}/{n}")
        return (int(k), int(n))
    return None


def out_folder(out: str | Path) -> Path:
    """The output folder, created; an empty name or an existing file there is an error."""
    if not str(out).strip():
        raise ReclipError("--out is empty: give the output folder (it is created, and a rerun resumes it)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReclipError(f"--out {out} is an existing file, not a folder: give a folder (it is created, and a rerun resumes it)")
    return make_folder(out)


def flatten_settings(settings: Any, prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"resolved.models.0.sha256": ...}``; lists of scalars stay whole."""
    if isinstance(settings, dict):
        items = settings.items()
    elif isinstance(settings, list) and any(isinstance(v, (dict, list)) for v in settings):
        items = enumerate(settings)
    else:
        return {prefix: settings}
    out: dict[str, Any] = {}
    for key, value in items:
        out.update(flatten_settings(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def settings_differ(old: dict[str, Any], new: dict[str, Any], ignore: tuple[str, ...] = ()) -> list[str]:
    """The settings two runs' records differ in, each as ``name (A vs B)``, nested ones by path."""
    a, b = flatten_settings(old), flatten_settings(new)
    keys = sorted(k for k in set(a) | set(b) if k.split(".")[0] not in ignore and a.get(k) != b.get(k))
    return [f"{k} ({json.dumps(a.get(k))} vs {json.dumps(b.get(k))})" for k in keys]


def write_run(out: Path, config: EvalConfig, shard: Shard | None, masks: bool,
              resolved: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``OUT/run.json``; when it exists (a resumed run) it must describe this same run:
    otherwise a ReclipError names the settings that differ. Only ``limit`` may change (a rerun
    with a larger one extends the run; rows do not depend on it)."""
    run = {**config.to_dict(), "shard": list(shard) if shard else None, "masks": masks}
    if resolved is not None:
        run["resolved"] = resolved
    path = out / RUN
    rows = out / PREDICTIONS
    if not path.is_file() and rows.is_file() and rows.stat().st_size:
        raise ReclipError(f"{out} holds {PREDICTIONS} but no {RUN}: rows of an unknown run cannot be "
                          "resumed; choose another --out")
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        differ = settings_differ(old, run, RESUMABLE) if isinstance(old, dict) else []
        if differ:
            raise ReclipError(
                f"{out} holds another run (it differs in {'; '.join(differ)}, there vs now); resume "
                "with the same settings or choose another --out")
    write_text(path, json.dumps(run, indent=2) + "\n")
    return run


def read_run(out: Path) -> dict[str, Any]:
    path = Path(out) / RUN
    if not path.is_file():
        raise ReclipError(f"{out} holds no {RUN}: not an evaluation output folder")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReclipError(f"cannot read {path}: {exc}") from None
