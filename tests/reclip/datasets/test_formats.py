"""Every registered dataset format carries its facts, and what it declares is what `reclip eval` offers."""

from __future__ import annotations

import argparse

import pytest

from reclip.cli.formats import add_format
from reclip.datasets import FORMATS, DatasetFormat, Option
import reclip.synthetic.evaluate  # noqa: F401  (the synthetic format)


@pytest.mark.parametrize("name", FORMATS.names())
def test_a_registered_format_declares_its_facts(name):
    fmt = FORMATS.get(name)
    assert isinstance(fmt, DatasetFormat) and callable(fmt.load) and fmt.help
    assert fmt.files and all(isinstance(o, Option) and o.help for o in fmt.files)
    assert set(fmt.title) <= {o.name for o in fmt.files}       # a title names declared files only
    assert all(callable(make) for make in fmt.evaluators)


def test_the_subcommand_takes_exactly_the_declared_files_and_options():
    fmt = DatasetFormat(load=lambda files, images, split=None: None, help="mine",
                        files=(Option("annotations", "a file", positional=True), Option("split_by", "how")),
                        split=None, images=False)
    parser = argparse.ArgumentParser()
    add_format(parser.add_subparsers(), "mine", fmt)
    args = parser.parse_args(["mine", "A.json", "--split-by", "umd", "--proposals", "gt", "--out", "o"])
    assert (args.annotations, args.split_by, args.proposals) == ("A.json", "umd", "gt")
    assert not hasattr(args, "split") and not hasattr(args, "images")    # not declared: not offered
    with pytest.raises(SystemExit):
        parser.parse_args(["mine", "A.json", "--split-by", "umd", "--out", "o", "--images", "I"])
