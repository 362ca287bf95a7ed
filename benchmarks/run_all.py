"""Run every benchmark in one process and print one line per target at the end.

    python benchmarks/run_all.py [--force]

It prints the machine's load and usable cores first. When the 1-minute load average is above
half the usable cores (> 1.0 on 2 cores) the machine is busy: every target line then says
``NOT TRUSTWORTHY: machine busy (load X)`` instead of PASS or FAIL, and the exit status is 2;
``--force`` reports verdicts anyway. Otherwise the exit status is 1 when a measured target
fails (skipped targets do not fail the run), else 0. Numbers are wall-clock times on whatever
machine runs this; docs/performance.md records a reference run.
"""

from __future__ import annotations

import argparse
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
from _common import MachineLoad, Target, machine, machine_load

BENCHMARKS = (bench_cli, bench_scenario, bench_rebuild, bench_phases, bench_scaling, bench_ensemble)


#: Exit status when the machine was too busy for a verdict.
EXIT_NO_VERDICT = 2


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the target lines; the exit status (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true",
                        help="give PASS/FAIL verdicts even when the machine is busy")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load = machine_load()
    print(f"machine: {machine()}")
    print(load.line())
    if load.busy:
        print("the machine is busy: the numbers will be printed without a verdict"
              + (" (--force: with verdicts anyway)" if args.force else ""))
    targets: list[Target] = []
    for module in BENCHMARKS:
        targets += module.main()
    print(f"\n=== targets ({time.perf_counter() - start:.0f} s in all) ===")
    return report(targets, load, force=args.force)


def report(targets: list[Target], load: MachineLoad, *, force: bool = False) -> int:
    """Print one line per target; the exit status: 0 all pass, 1 a failure, 2 no verdict."""
    untrusted = load.untrusted(force)
    for target in targets:
        print(target.line(untrusted))
    if untrusted is not None:
        return EXIT_NO_VERDICT
    failed = [t for t in targets if t.skipped is None and not t.passed]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
