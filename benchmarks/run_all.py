"""Run every benchmark in one process and print one line per target at the end.

    python benchmarks/run_all.py

Exit status 1 when a measured target fails (skipped targets do not fail the run). Numbers are
wall-clock times on whatever machine runs this; docs/performance.md records a reference run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cli
import bench_ensemble
import bench_phases
import bench_rebuild
import bench_scaling
import bench_scenario
from _common import Target, machine

BENCHMARKS = (bench_cli, bench_scenario, bench_rebuild, bench_phases, bench_scaling, bench_ensemble)


def main() -> int:
    start = time.perf_counter()
    print(f"machine: {machine()}")
    targets: list[Target] = []
    for module in BENCHMARKS:
        targets += module.main()
    print(f"\n=== targets ({time.perf_counter() - start:.0f} s in all) ===")
    for target in targets:
        print(target.line())
    failed = [t for t in targets if t.skipped is None and not t.passed]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
