"""``reclip plugins``: every extension point, its entries, and where each came from."""

from __future__ import annotations

import argparse
import importlib
import json
import os
from typing import Any

from foundation import CATALOGS, failures

COMMANDS = ("plugins",)
# The modules that create reclip's registries; importing them makes every extension point known.
REGISTRY_MODULES = ("primitives", "reclip.isolation", "reclip.proposals", "reclip.datasets")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list every extension point, its entries and where each came from",
                       description="List reclip's extension points (relations and other primitives, "
                                   "isolation methods, proposal sources, dataset formats, ...), every "
                                   "registered entry, where it came from (built in, an installed "
                                   "distribution, a --plugins file) and where it is defined.")
    p.add_argument("--json", action="store_true", help="print the listing as JSON")
    p.set_defaults(func=cmd_plugins)


def listing() -> dict[str, Any]:
    """Extension point -> its entry point group and entries, plus the plugins that failed to load."""
    for module in REGISTRY_MODULES:
        importlib.import_module(module)
    points = {}
    for kind, catalog in CATALOGS.items():
        entries = []
        for name in catalog.names():
            where = catalog.where(name)
            origin = where.pop("origin")
            entries.append({"name": name, "origin": origin.source, "from": origin.name,
                            "entry_point": origin.entry, **where})
        points[kind] = {"what": catalog.what, "groups": list(catalog.groups), "entries": entries}
    broken = [{"from": f.origin.name, "group": f.origin.group, "entry_point": f.origin.entry, "cause": f.cause}
              for f in failures()]
    return {"extension_points": points, "failed": broken}


def cmd_plugins(args: argparse.Namespace) -> int:
    data = listing()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    blocks = []
    for point in data["extension_points"].values():
        lines = [f"{point['what']}s ({len(point['entries'])}; entry point group {', '.join(point['groups'])}):"]
        width = max((len(e["name"]) for e in point["entries"]), default=0)
        for e in point["entries"]:
            lines.append(f"  {e['name']:<{width}}  {_origin_text(e)}  {_place(e)}")
        blocks.append("\n".join(lines))
    if data["failed"]:
        blocks.append("\n".join(["failed to load:"] + [
            f"  {f['entry_point']} (distribution {f['from']}, group {f['group']}): {f['cause']}"
            for f in data["failed"]]))
    print("\n\n".join(blocks))
    return 0


def _origin_text(entry: dict[str, Any]) -> str:
    if entry["origin"] == "distribution":
        return f"[distribution {entry['from']}: {entry['entry_point']}]"
    return f"[{entry['origin']} {entry['from']}]".replace(" ]", "]")


def _place(entry: dict[str, Any]) -> str:
    if not entry["module"]:
        return ""
    line = f":{entry['line_no']}" if entry["line_no"] else ""
    file = f" ({os.path.relpath(entry['file']) if entry['file'] else '?'}{line})"
    return f"{entry['module']}{file}"
