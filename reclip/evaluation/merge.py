"""``reclip eval merge``: shard outputs joined into one run's files and figures.

Each shard folder holds ``run.json`` (the run's configuration, its ``shard`` included),
``predictions.jsonl`` and ``skipped.jsonl``. The merge refuses shards of different runs
(configurations that differ other than in ``shard``), shards that overlap or leave one
out, and unfinished shards (no ``summary.json``: a shard writes it when it ends); it then
concatenates the rows, keeps one row per ``sent_id`` (sorted by it, as the summary reads
them), and writes the summary from the merged files exactly as a single run would (``summary.write_summary``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from primitives import ReclipError
from reclip.evaluation.config import PREDICTIONS, RUN, SKIPPED, check_shard
from reclip.evaluation.loop import read_rows
from reclip.evaluation.summary import SUMMARY_JSON, unique_rows, write_summary
from reclip.files import make_folder, write_text

MERGED_FROM = "merged_from.json"
SHARD_KEY = "shard"

Row = dict[str, Any]


class MergeError(ReclipError):
    """Shard outputs that cannot be merged into one run."""


@dataclass(frozen=True)
class Shard:
    """One shard's folder, its configuration and its slice (None for an unsharded run)."""

    folder: Path
    config: dict
    slice: tuple[int, int] | None


def shard_of(config: dict, folder: Path) -> tuple[int, int] | None:
    """run.json's ``shard`` ([K, N], K 1-based, or None for a whole run) as (K, N)."""
    value = config.get(SHARD_KEY)
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise MergeError(f"{folder / RUN}: shard must be [K, N], got {value!r}")
    return check_shard(tuple(value))


def read_shard(folder: str | Path) -> Shard:
    """A shard folder's configuration; refused when it is not a finished run."""
    folder = Path(folder)
    if not (folder / RUN).is_file():
        raise MergeError(f"{folder} is not an evaluation output (no {RUN})")
    try:
        config = json.loads((folder / RUN).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MergeError(f"cannot read {folder / RUN}: {exc}") from None
    if not isinstance(config, dict):
        raise MergeError(f"{folder / RUN} does not hold a run configuration")
    if not (folder / SUMMARY_JSON).is_file():
        raise MergeError(f"{folder} has no {SUMMARY_JSON}: that run did not finish; "
                         "rerun it with the same command (it resumes), then merge")
    return Shard(folder, config, shard_of(config, folder))


def check_same_run(shards: Sequence[Shard]) -> None:
    """Refuse shards whose configurations differ other than in ``shard``, naming the keys."""
    first = shards[0]
    base = {k: v for k, v in first.config.items() if k != SHARD_KEY}
    for shard in shards[1:]:
        other = {k: v for k, v in shard.config.items() if k != SHARD_KEY}
        differ = sorted(k for k in base.keys() | other.keys() if base.get(k) != other.get(k))
        if differ:
            detail = "; ".join(f"{k}: {base.get(k)!r} vs {other.get(k)!r}" for k in differ)
            raise MergeError(f"{first.folder} and {shard.folder} are different runs ({detail})")


def check_slices(shards: Sequence[Shard]) -> list[Shard]:
    """The shards in K order; refused when they overlap, leave a slice out or mix counts."""
    slices = [s.slice for s in shards]
    if all(s is None for s in slices):
        if len(shards) > 1:
            raise MergeError("these outputs are not shards (run.json has no shard): "
                             "each holds a whole run")
        return list(shards)
    if any(s is None for s in slices):
        whole = next(s.folder for s in shards if s.slice is None)
        raise MergeError(f"{whole} holds a whole run; it overlaps every shard")
    counts = {n for _, n in slices}
    if len(counts) > 1:
        raise MergeError(f"shards of different splits: N = {sorted(counts)}")
    n = counts.pop()
    seen: dict[int, Path] = {}
    for shard in shards:
        k = shard.slice[0]
        if k in seen:
            raise MergeError(f"shard {k}/{n} given twice: {seen[k]} and {shard.folder}")
        seen[k] = shard.folder
    missing = sorted(set(range(1, n + 1)) - seen.keys())
    if missing:
        raise MergeError(f"shards missing: {', '.join(f'{k}/{n}' for k in missing)}")
    return sorted(shards, key=lambda s: s.slice[0])


def write_rows(path: Path, rows: Sequence[Row]) -> None:
    write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def merge_files(folders: Sequence[str | Path], out: str | Path) -> Path:
    """Check shard outputs ``folders`` and write their merged run.json, predictions and
    skipped records into ``out`` (one row per sent_id, in sent_id order)."""
    if not folders:
        raise MergeError("nothing to merge: give the shard folders")
    out = Path(out)
    shards = check_slices([read_shard(f) for f in folders])
    check_same_run(shards)
    if any(s.folder.resolve() == out.resolve() for s in shards):
        raise MergeError(f"--out {out} is one of the shards; merge into another folder")
    config = merged_config(shards[0])
    make_folder(out)
    write_text(out / RUN, json.dumps(config, indent=2) + "\n")
    write_text(out / MERGED_FROM, json.dumps([str(s.folder) for s in shards], indent=2) + "\n")
    # all rows, then one per sent_id (skipped: per sent_id and reason) as the summary counts them
    for name, fields in ((PREDICTIONS, ()), (SKIPPED, ("reason",))):
        write_rows(out / name, [r for s in shards for r in read_rows(s.folder / name)])
        write_rows(out / name, unique_rows(out / name, *fields))
    return out


def merged_config(shard: Shard) -> dict:
    """The run.json of the merged run: a shard's configuration, with no shard."""
    config = dict(shard.config)
    if SHARD_KEY in config:
        config[SHARD_KEY] = None
    return config


def check_merge_target(folders: Sequence[str | Path], out: str | Path) -> None:
    """For ``reclip eval merge``: ``out`` must be new, empty, or an earlier merge of this same run
    (``--ray`` merges its shards into the run's own folder, which holds them)."""
    if folders:
        _refuse_other_folder(Path(out), merged_config(read_shard(folders[0])))


def _refuse_other_folder(out: Path, config: dict) -> None:
    """``out`` must be new, empty, or an earlier merge of this same run: merging writes over
    run.json, the rows and the summary, which another run's folder (or a user's) holds too."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        earlier = json.loads((out / RUN).read_text(encoding="utf-8")) if (out / MERGED_FROM).is_file() else None
    except (OSError, ValueError):
        earlier = None
    if earlier != config:
        raise MergeError(f"--out {out} is not empty and holds no earlier merge of this run; merge into a "
                         "new folder")


def merge_runs(folders: Sequence[str | Path], out: str | Path) -> dict:
    """Merge shard outputs ``folders`` into ``out`` and write its summary as one run's;
    returns that summary."""
    return write_summary(merge_files(folders, out))
