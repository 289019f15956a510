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
- ``mixes_head``: the text feature is ``beta * sentence + (1 - beta) * head phrase``.

A new method is one function::

    from reclip.isolation import isolation_method

    @isolation_method("outline")
    def outline(image, proposals):
        return [...]  # one PIL image per proposal

Installed packages can offer methods through the entry point group ``reclip_isolation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

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
                     mixes_head: bool = False) -> Callable[[Callable], Callable]:
    """Register the decorated function as the isolation method ``name``."""
    if family not in (PIXELS, FEATURES):
        raise IsolationError(f"isolation method family must be {PIXELS!r} or {FEATURES!r}, got {family!r}")

    def decorate(fn: Callable) -> Callable:
        ISOLATION.add(name, IsolationMethod(name, fn, family, tuple(towers) if towers else None,
                                            needs_mask, prompt, mixes_head))
        return fn

    return decorate


def get_method(name: str) -> IsolationMethod:
    """The registered method ``name``; an unknown name is an IsolationError naming the nearest ones."""
    if name not in ISOLATION:
        raise IsolationError(ISOLATION.unknown(name))
    return ISOLATION.get(name)


def method_names(family: str | None = None) -> tuple[str, ...]:
    """Registered method names (of one ``family``), in registration order."""
    return tuple(n for n, m in ISOLATION.all().items() if family is None or m.family == family)


def check_methods(methods: Sequence[str] | str, family: str | None = None) -> tuple[str, ...]:
    """Method names as a tuple (from a list or "crop,blur"), each registered (of ``family``) once."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    methods = tuple(methods)
    allowed = method_names(family)
    if not methods:
        raise IsolationError(f"no isolation method given; choose from {', '.join(allowed)}")
    for m in methods:
        get_method(m)
        if m not in allowed:
            raise IsolationError(
                f"isolation method {m!r} is not a {family} method; those are {', '.join(allowed)}")
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
