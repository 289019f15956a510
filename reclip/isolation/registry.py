"""The registry of isolation methods: how one proposal is shown to CLIP.

An isolation method is one registered function plus what the scorer must know about it:

- ``family``: ``"pixels"``, the function turns (image, proposals) into one RGB image per
  proposal, which the image tower encodes (``reclip.isolation.images``); or
  ``"features"``, the function computes (N, D) region features inside the image tower
  from (LoadedModel, image, proposals) (``global_local``, ``region``);
- ``towers``: the image-tower families it runs on (``"vit"``, ``"resnet"``; None = any);
  in an ensemble a model whose tower does not fit is skipped for that method;
- ``needs_mask``: every proposal must carry a mask covering the image;
- ``prompt``: the text CLIP reads for a find under this method;
- ``mixes_head``: the text feature is ``beta * sentence + (1 - beta) * head phrase``;
- ``options``: the function's keyword-only parameters and their defaults. A method spec
  carries its own values, ``"global_local?alpha=0.95"`` (``&`` between options), so the
  scorer never knows any method's options (``parse_method``); ``check`` validates them.

A new method is one function::

    from reclip.isolation import isolation_method

    @isolation_method("outline")
    def outline(image, proposals):
        return [...]  # one PIL image per proposal

Installed packages can offer methods through the entry point group ``reclip_isolation``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from primitives import ReclipError
from foundation.catalog import Catalog
from reclip.clip.text import photo_prompt

PIXELS, FEATURES = "pixels", "features"
TOWER_EXAMPLES = {"vit": "a ViT model (e.g. ViT-B-32)", "resnet": "a ResNet model (e.g. RN50x16)"}


class IsolationError(ReclipError):
    """An isolation method is unknown, needs masks the proposals lack, or a box is unusable."""


@dataclass(frozen=True)
class IsolationMethod:
    """A registered isolation method (see the module docstring)."""

    name: str
    run: Callable[..., Any] = field(repr=False)
    family: str = PIXELS
    towers: tuple[str, ...] | None = None
    needs_mask: bool = False
    prompt: Callable[[str], str] = field(default=photo_prompt, repr=False)
    mixes_head: bool = False
    options: tuple[tuple[str, Any], ...] = ()
    check: Callable[[Mapping[str, Any]], None] | None = field(default=None, repr=False)

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        """The registered function (where listings find the definition)."""
        return self.run

    def runs_on(self, tower_family: str | None) -> bool:
        """Whether a model with this image-tower family can run the method."""
        return self.towers is None or tower_family in self.towers

    def requirement(self) -> str:
        """What kind of model the method needs, for messages."""
        return " or ".join(TOWER_EXAMPLES.get(t, f"a {t} model") for t in self.towers or ())


def _accept(name: str, entry: Any) -> IsolationMethod:
    """An entry point's object: an IsolationMethod, or a plain function (a pixels method)."""
    if isinstance(entry, IsolationMethod):
        return entry
    if callable(entry):
        return IsolationMethod(name, entry)
    raise IsolationError(f"isolation method {name!r} is a {type(entry).__name__}, not a function")


ISOLATION: Catalog[IsolationMethod] = Catalog("isolation", "isolation method", accept=_accept)


def isolation_method(name: str, *, family: str = PIXELS, towers: Sequence[str] | None = None,
                     needs_mask: bool = False, prompt: Callable[[str], str] = photo_prompt,
                     mixes_head: bool = False,
                     check: Callable[[Mapping[str, Any]], None] | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated function as the isolation method ``name``; its keyword-only
    parameters with defaults are the method's options, ``check`` (given the options of a
    spec) raises on values it refuses."""
    if family not in (PIXELS, FEATURES):
        raise IsolationError(f"isolation method family must be {PIXELS!r} or {FEATURES!r}, got {family!r}")

    def decorate(fn: Callable) -> Callable:
        ISOLATION.add(name, IsolationMethod(name, fn, family, tuple(towers) if towers else None,
                                            needs_mask, prompt, mixes_head, _keyword_options(fn), check))
        return fn

    return decorate


def _keyword_options(fn: Callable) -> tuple[tuple[str, Any], ...]:
    return tuple((p.name, p.default) for p in inspect.signature(fn).parameters.values()
                 if p.kind is p.KEYWORD_ONLY and p.default is not p.empty)


@dataclass(frozen=True)
class MethodSpec:
    """A method and the values of its options that differ from their defaults."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> str:
        """Canonical spec text: the name, then ``?k=v&...`` sorted by key (defaults left out)."""
        if not self.options:
            return self.name
        return self.name + "?" + "&".join(f"{k}={v}" for k, v in self.options)

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)


def _option_value(method: str, key: str, raw: str, default: Any) -> Any:
    kind = type(default)
    try:
        if kind is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        return kind(raw) if kind in (int, float, str) else raw
    except ValueError:
        raise IsolationError(f"isolation method {method!r}: option {key}={raw!r} is not "
                             f"a {kind.__name__}") from None


def parse_method(spec: str | MethodSpec) -> MethodSpec:
    """``"name"`` or ``"name?key=value&key=value"`` checked against the method's options."""
    if isinstance(spec, MethodSpec):   # a method object: checked as its text would be
        spec = spec.text
    name, _, rest = str(spec).strip().partition("?")
    entry = get_method(name.strip())
    defaults = dict(entry.options)
    given: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split("&"))):
        key, eq, raw = (t.strip() for t in item.partition("="))
        if key not in defaults or not eq:
            known = ", ".join(f"{k}={v}" for k, v in entry.options) or "none"
            raise IsolationError(f"isolation method {entry.name!r} has no option {item!r} "
                                 f"(its options, with defaults: {known})")
        given[key] = _option_value(entry.name, key, raw, defaults[key])
    if entry.check is not None:
        entry.check({**defaults, **given})
    return MethodSpec(entry.name, tuple(sorted((k, v) for k, v in given.items() if v != defaults[k])))


def get_method(name: str) -> IsolationMethod:
    """The registered method ``name`` (a spec's options are ignored here); an unknown name is an
    IsolationError naming the nearest ones."""
    name = str(name).partition("?")[0].strip()
    if name not in ISOLATION:
        raise IsolationError(ISOLATION.unknown(name))
    return ISOLATION.get(name)


def method_names(family: str | None = None) -> tuple[str, ...]:
    """Registered method names (of one ``family``), in registration order."""
    return tuple(n for n, m in ISOLATION.all().items() if family is None or m.family == family)


def check_methods(methods: Sequence[str | MethodSpec] | str, family: str | None = None) -> tuple[str, ...]:
    """Canonical method specs as a tuple (from a list or "crop,blur"), each registered (of
    ``family``) and given once; options are checked (``parse_method``)."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    allowed = method_names(family)
    if not methods:
        raise IsolationError(f"no isolation method given; choose from {', '.join(allowed)}")
    specs = [parse_method(m) for m in methods]
    methods = tuple(s.text for s in specs)
    for spec in specs:
        if spec.name not in allowed:
            raise IsolationError(
                f"isolation method {spec.name!r} is not a {family} method; those are {', '.join(allowed)}")
    if len(set(methods)) != len(methods):
        raise IsolationError(f"isolation methods repeated: {list(methods)}")
    return methods


def method_prompt(text: str, method: str) -> str:
    """The text CLIP reads for ``text`` under ``method``."""
    return get_method(method).prompt(text)


def require_masks(method: str, proposals: Sequence[Any]) -> None:
    """The one check that every proposal carries a mask, for a method that needs them."""
    for i, p in enumerate(proposals):
        if getattr(p, "mask", None) is None:
            no_masks = ", ".join(n for n, m in ISOLATION.all().items() if not m.needs_mask)
            raise IsolationError(
                f"isolation method {method!r} needs proposal masks, but proposal {i} "
                f"(box {list(p.box)}) has none; pass Proposal(box, mask=HxW bool array) "
                f"or choose methods without masks ({no_masks})"
            )
