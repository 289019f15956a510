"""`make bench`: run every benchmark module's main() in turn, in one process."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = [
    "benchmarks.bench_compile", "benchmarks.bench_structure", "benchmarks.bench_scoring",
    "benchmarks.bench_region", "benchmarks.bench_scale", "benchmarks.bench_proposals", "benchmarks.bench_eval",
    "benchmarks.bench_engines", "benchmarks.bench_pipeline",
]


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else BENCHMARKS
    for name in names:
        module = importlib.import_module(name if name.startswith("benchmarks.") else f"benchmarks.{name}")
        print(f"\n=== {module.__name__} ===", flush=True)
        start = time.perf_counter()
        sys.argv = [module.__name__]   # each bench parses its own flags: give it none
        module.main()
        print(f"({module.__name__} took {time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
