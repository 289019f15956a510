"""Proposal sources: image -> proposals, registered by name and chosen by a spec string.

A spec is ``NAME[:ARG][?KEY=VALUE,...]``: ``maskrcnn``, ``fasterrcnn:/w.pth``,
``sam:/sam_vit_b.pth?points_per_side=16``, ``file:boxes.json`` or a plain existing path.
``BOXES+PROMPTED`` feeds one source's boxes to a source that takes box prompts
(``maskrcnn+sam:CKPT``: SAM masks prompted by Mask R-CNN's boxes, FGVP's recipe).

A user's own source is one registered factory (a function or a class)::

    @PROPOSAL_SOURCES.register("grid")
    class Grid:
        def __init__(self, arg=None, step=100): ...
        def __call__(self, image): return [[0, 0, 10, 10], ...]

called with the spec's ARG (when there is one) and its options; an installed package offers
one through the entry point group ``reclip_proposals``.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from PIL import Image

from interpreter import Proposal, as_proposals
from interpreter.proposals import check_masks
from primitives import BoxError, ReclipError
from foundation.catalog import Catalog
from reclip.proposals.facts import SourceFacts, declare, facts_of
from reclip.proposals.io import read_proposals


@runtime_checkable
class ProposalSource(Protocol):
    """Anything that proposes regions for an image; ``spec`` names it (and keys caches)."""

    spec: str

    def __call__(self, image: Image.Image) -> list[Proposal]: ...


SourceFactory = Callable[..., ProposalSource]
def _callable_entry(name: str, entry: Any) -> Any:
    if not callable(entry):
        raise ReclipError(f"proposal source {name!r} is a {type(entry).__name__}, not a function or class")
    return entry


PROPOSAL_SOURCES: Catalog[SourceFactory] = Catalog("proposals", "proposal source", accept=_callable_entry)

# Options every source may take; each factory receives those its signature names.
CONTEXT_OPTIONS = ("device", "image_id")


class ProposalSourceError(ReclipError):
    """A spec string that names no source, or a source that misbehaves."""


@dataclass(frozen=True)
class SourceSpec:
    """One parsed spec: ``name``, its ``arg``, its ``options``, and the box source prompting it."""

    name: str
    arg: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    prompts: "SourceSpec | None" = None
    text: str = ""


def parse_source_spec(spec: str) -> SourceSpec:
    """Parse a spec string (see the module docstring); a plain existing path is ``file:PATH``."""
    if not isinstance(spec, (str, os.PathLike)) or not str(spec).strip():
        raise ProposalSourceError(f"a proposal source spec must be a non-empty string, got {spec!r}")
    text = str(spec).strip()
    if Path(text).is_file():
        return SourceSpec("file", text, text=text)
    cut = _prompted_part(text)
    if cut is not None:
        boxes, prompted = parse_source_spec(text[:cut]), _parse_one(text[cut + 1:])
        return SourceSpec(prompted.name, prompted.arg, prompted.options, boxes, text)
    return _parse_one(text)


def _prompted_part(text: str) -> int | None:
    """Where ``BOXES+PROMPTED`` splits: the first '+' followed by a source taking box prompts."""
    for i, char in enumerate(text):
        if char == "+" and i > 0:
            name = _split_name(text[i + 1:])[0]
            if name in PROPOSAL_SOURCES and _takes_prompts(PROPOSAL_SOURCES.get(name)):
                return i
    return None


def _parse_one(text: str) -> SourceSpec:
    name, rest = _split_name(text)
    options: dict[str, Any] = {}
    if "?" in rest:
        rest, query = rest.rsplit("?", 1)
        options = _parse_options(query, text)
    arg = rest[1:] if rest.startswith(":") else None
    if name not in PROPOSAL_SOURCES:
        if name == text and (text.endswith(".json") or os.sep in text):
            return SourceSpec("file", text, text=text)  # a missing file: the file source says so
        raise ProposalSourceError(PROPOSAL_SOURCES.unknown(name) + _path_hint(text))
    return SourceSpec(name, arg or None, options, None, text)


def _split_name(text: str) -> tuple[str, str]:
    for i, char in enumerate(text):
        if char in ":?":
            return text[:i], text[i:]
    return text, ""


def _path_hint(text: str) -> str:
    return f"; nor is {text!r} a file (a proposals file: give its path, or file:PATH)"


def _parse_options(query: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in filter(None, query.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ProposalSourceError(f"{text}: options after '?' are KEY=VALUE separated by ',', got {item!r}")
        out[key.strip()] = _option_value(value.strip())
    return out


def _option_value(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def build_source(spec: str | SourceSpec, **context: Any) -> ProposalSource:
    """A new source for ``spec`` (no caching); ``context`` holds device / image_id and the like,
    given to the factories that take them."""
    parsed = spec if isinstance(spec, SourceSpec) else parse_source_spec(spec)
    factory = PROPOSAL_SOURCES.get(parsed.name)
    kwargs = {k: v for k, v in context.items() if v is not None and _accepts(factory, k)}
    kwargs.update(_checked_options(parsed, factory))
    if parsed.prompts is not None:
        kwargs["prompts"] = build_source(parsed.prompts, **context)
    user = _is_users(factory)
    try:
        source = factory(parsed.arg, **kwargs) if parsed.arg is not None else factory(**kwargs)
    except ReclipError:
        raise
    except TypeError as exc:
        raise ProposalSourceError(f"{parsed.text}: cannot build proposal source {parsed.name!r}: {exc}") from None
    except Exception as exc:
        if not user:
            raise   # a bug in a built-in source: the CLI's backstop reports it as reclip's
        raise ProposalSourceError(f"proposal source {parsed.name!r} failed while being built: "
                                  f"{_one_line(exc)}") from None
    return Checked(source, parsed.text or parsed.name, user=user)


def _checked_options(parsed: SourceSpec, factory: Callable) -> dict[str, Any]:
    """The spec's options, each checked against the source's declared options (their types
    and ranges) or, for a source that declares none, against its signature. (A missing
    required ARG is the factory's to say: it knows where to fetch the file.)"""
    facts, declared = facts_of(factory), getattr(factory, "facts", None) is not None
    where = parsed.text or parsed.name
    if declared and facts.arg is None and parsed.arg is not None:
        raise ProposalSourceError(f"{where}: proposal source {parsed.name!r} takes no ':' argument")
    if declared and facts.options is not None:
        unknown = [k for k in parsed.options if facts.option(k) is None and not _context(factory, k)]
        takes = ", ".join([*map(str, facts.options), *(c for c in CONTEXT_OPTIONS if _context(factory, c))]) or "none"
    else:
        unknown = [k for k in parsed.options if not _accepts(factory, k)]
        takes = ", ".join(_parameters(factory)) or "none"
    if unknown:
        raise ProposalSourceError(
            f"{where}: proposal source {parsed.name!r} takes no option {', '.join(map(repr, unknown))}"
            f" (it takes: {takes})")
    if not declared or facts.options is None:
        return dict(parsed.options)
    return {k: v if _context(factory, k) else facts.option(k).check(v, where)  # type: ignore[union-attr]
            for k, v in parsed.options.items()}


def _context(factory: Callable, name: str) -> bool:
    """Whether ``name`` is a context option (device, image_id) this factory takes; the
    factory checks its value (a device through ``resolve_device``)."""
    return name in CONTEXT_OPTIONS and _accepts(factory, name)


def _is_users(factory: Any) -> bool:
    """Whether a factory comes from outside reclip (a plugin, a user's registration)."""
    return not str(getattr(factory, "__module__", "") or "").startswith("reclip.")


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def spec_usage() -> str:
    """The registered sources as a help text writes them (``maskrcnn[:WEIGHTS], sam:CKPT, ...``)."""
    usages = []
    for name, factory in PROPOSAL_SOURCES.all().items():
        facts = facts_of(factory)
        usages.append(facts.usage(name))
        if _takes_prompts(factory):
            usages.append(f"BOXES+{facts.usage(name)}")
    return ", ".join(usages)


def _accepts(factory: Callable, name: str) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _takes_prompts(factory: Callable) -> bool:
    """Whether a factory names a ``prompts`` parameter (a box source to prompt it with)."""
    try:
        return "prompts" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def _parameters(factory: Callable) -> list[str]:
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return []
    return [p.name for p in params[1:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class Checked:
    """A source's output as checked Proposals (a user's source may return plain boxes or dicts);
    ``spec`` set; ``batch`` passed through when the source has one."""

    def __init__(self, source: Any, spec: str, user: bool = False) -> None:
        if not callable(source):
            raise ProposalSourceError(f"proposal source {spec!r} built {type(source).__name__}, which is not callable")
        self.source = source
        self.spec = spec
        self.user = user
        self.cacheable = getattr(source, "cacheable", True)

    def __call__(self, image: Image.Image) -> list[Proposal]:
        return self._checked(self._run(self.source, image), image)

    @property
    def needs_texts(self) -> bool:
        """Whether the source proposes for texts (Grounding DINO): see ``for_texts``."""
        return bool(getattr(self.source, "needs_texts", False))

    def for_texts(self, texts: Sequence[Any]) -> "Checked":
        """The source proposing for ``texts``; its spec (a cache key) names them."""
        texts = [str(t) for t in texts]
        return Checked(self.source.for_texts(texts), f"{self.spec}#texts={'|'.join(texts)}")

    def batch(self, images: Sequence[Image.Image]) -> list[list[Proposal]]:
        if hasattr(self.source, "batch"):
            outputs = self._run(self.source.batch, list(images))
        else:
            outputs = [self._run(self.source, image) for image in images]
        return [self._checked(out, image) for out, image in zip(outputs, images)]

    def _run(self, call: Callable, argument: Any) -> Any:
        """``call(argument)``; a user's source that raises is that source's failure, named."""
        try:
            return call(argument)
        except ReclipError:
            raise
        except Exception as exc:
            if not self.user:
                raise
            raise ProposalSourceError(f"proposal source {self.spec!r} failed: {_one_line(exc)}") from None

    def _checked(self, output: Any, image: Image.Image) -> list[Proposal]:
        output = list(output) if output is not None else None
        if output == []:
            return []  # nothing found in this image: the caller decides whether that is an error
        try:
            proposals = as_proposals(output)
            check_masks(proposals, image.size)
        except BoxError as exc:
            raise ProposalSourceError(f"proposal source {self.spec!r} on a {image.size[0]}x{image.size[1]} image: {exc}") from None
        return proposals

    def __repr__(self) -> str:
        return f"<proposal source {self.spec}>"


@PROPOSAL_SOURCES.register("file")
class FileSource:
    """Proposals read from a JSON file (every layout ``reclip.proposals.io`` reads)."""

    cacheable = False  # reading is cheap, and a cache would hide edits to the file

    def __init__(self, path: str, image_id: Any = None) -> None:
        self.path = path
        self.image_id = image_id

    def __call__(self, image: Image.Image) -> list[Proposal]:
        return read_proposals(self.path, image_id=self.image_id, image_size=image.size)


declare(FileSource, SourceFacts(
    gives=frozenset({"boxes"}), arg="PATH", arg_required=True, options=(),
    summary="a proposals file (boxes; masks, labels and scores when the file holds them)"))
