"""The registry of dataset formats: each entry carries its facts (detectron2's ``MetadataCatalog``
is the model), so ``reclip eval`` builds one subcommand per entry and the evaluation reads
what it needs from the entry, never from a list of names.

A format declares its loader, the files and options it takes (``Option``s: a positional file or
a ``--name`` option; their values reach the loader as ``files[name]``), whether it takes
``--images`` and ``--split``, whether its proposals are fixed (the synthetic benchmark: every
object of the scene), the keys of ``files`` that name it in a summary's title, other systems
answering the same expressions beside the main one (``Companion``: CLIP alone, a gold-attribute
scorer), evaluators adding its own figures to the summary, and ``row_facts(record, proposals)``
adding its own fields to each row. Registering one is the whole act
of adding a format::

    FORMATS.add("mine", DatasetFormat(load=load_mine, help="...", files=(Option("annotations", ...),)))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from foundation.catalog import Catalog
from reclip.datasets.records import Dataset

# A loader: (files, images, split) -> Dataset; ``files`` holds the declared options' values.
Loader = Callable[[Mapping[str, str], str, Optional[str]], Dataset]


@dataclass(frozen=True)
class Option:
    """A file or option a format takes: ``positional`` (``reclip eval mine FILE``) or ``--name``."""

    name: str
    help: str
    positional: bool = False
    required: bool = True
    metavar: Optional[str] = None

    @property
    def flag(self) -> str:
        return self.name if self.positional else "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Companion:
    """Another system answering every expression beside the main one; its answer goes in the row
    as ``NAME`` (the proposal index) and ``NAME_correct``. ``whole_expression``: the expression as
    one find (CLIP alone) instead of the compiled program; ``scorer``: a factory of the scorer it
    uses instead of the run's (None: the run's own)."""

    name: str
    whole_expression: bool = False
    scorer: Optional[Callable[[], Any]] = None


@dataclass(frozen=True)
class DatasetFormat:
    """One dataset format and its facts (see the module docstring)."""

    load: Loader
    help: str
    description: str = ""
    files: tuple[Option, ...] = ()
    split: Optional[Option] = Option("split", "the split name to keep or record", required=False)
    images: bool = True
    proposals: Optional[str] = None
    proposals_note: str = ""
    title: tuple[str, ...] = ()
    companions: tuple[Companion, ...] = ()
    evaluators: tuple[Callable[[], Any], ...] = ()
    row_facts: Optional[Callable[[Any, list], dict]] = None
    default_out: Optional[str] = None

    @property
    def __wrapped__(self) -> Loader:
        """The loader (where listings find the definition)."""
        return self.load

    @property
    def module(self) -> str:
        """The module that defines the loader: importing it registers the format (Ray workers do)."""
        return self.load.__module__


def _accept(name: str, entry: Any) -> DatasetFormat:
    """An entry point's object must be a DatasetFormat: its facts build the subcommand."""
    if not isinstance(entry, DatasetFormat):
        raise TypeError(f"dataset format {name!r} is a {type(entry).__name__}, not a reclip.datasets.DatasetFormat")
    return entry


FORMATS: Catalog[DatasetFormat] = Catalog("datasets", "dataset format", accept=_accept)


def load_dataset(format: str, files: Mapping[str, str], images: str, split: str | None = None) -> Dataset:
    """Read a dataset with the format registered as ``format`` (``refer``, ``mdetr``, ``reclip``, ...)."""
    return FORMATS.get(format).load(files, images, split)
