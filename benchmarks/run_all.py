"""Run every benchmark in one process and print one line per target at the end.

    python benchmarks/run_all.py [--force] [--full [--full-draws N]]

One ``TARGET`` line per target of issue #21, each with the measured value, the bound and
PASS/FAIL (on the shared 2-core VM: 8 min at load 1.3–2.9, 12.5 min at load ≈ 7):

* ``cli_help_seconds`` < 0.5 s (``bench_cli``);
* ``scenario_2024_2040_seconds`` < 1 s: ``simulate`` on the bundled 2024 world, build
  included, median of 5; ``heaviest_scenario_2024_2040_seconds`` < 2 s: every bundled
  2024–2040 scenario is run once, the one taking the most CPU time is the heaviest (named in
  the line) and its median of 3 counts (``bench_scenario``);
* ``update_vs_rebuild_speedup`` ≥ 10× (``bench_rebuild``);
* ``per_draw_outside_highs_share`` ≤ 40 %: CPU time of one worker's batch of 17-year draws
  (``WorkerModel.run_draws``) outside ``highspy.Highs.run`` (``bench_draw``); the first
  round's re-solve loop share (< 30 %) is printed by ``bench_phases`` as information;
* ``scaled_world_4x_2024_2040_seconds`` < 10 s and the scaling table (``bench_scaling``);
* ``ensemble_draws_per_second_2_workers`` ≥ 10: 17-year baseline draws on a 2-worker
  LocalCluster, counted once both workers have built their model (``bench_ensemble``);
* ``ensemble_10000_draws_seconds`` < 1200 s, ``ensemble_stop_resume`` (0 problems) and
  ``ensemble_peak_memory_10000_vs_1000`` ≤ 1.2: ``rareflow ensemble`` as a subprocess, stopped
  with SIGINT at random points and resumed until complete. By default a 200-draw run stopped
  once, the 10,000-draw time *projected* from it (the line says so) and memory compared at
  scaled-down sizes (600 vs 60 draws of 2 years). ``--full`` runs the 10,000 draws for real,
  stopped 3 times (≈ 1 h at today's ≈ 3.5 draws/s), and compares memory with an uninterrupted
  1,000-draw run; ``--full-draws N`` runs that same code on N draws instead (memory against N/10).

The first round's ensemble targets (1,000 draws < 120 s, 1→2 workers ≥ 1.7×) are gone: #21's
throughput, 10,000-draw and memory lines replace them.

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
import bench_draw
import bench_ensemble
import bench_phases
import bench_rebuild
import bench_scaling
import bench_scenario
from _common import MachineLoad, Target, machine, machine_load

BENCHMARKS = (bench_cli, bench_scenario, bench_rebuild, bench_phases, bench_draw, bench_scaling)


#: Exit status when the machine was too busy for a verdict.
EXIT_NO_VERDICT = 2


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the target lines; the exit status (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true",
                        help="give PASS/FAIL verdicts even when the machine is busy")
    parser.add_argument("--full", action="store_true",
                        help="run the 10,000-draw ensemble for real (≈ 1 h) instead of "
                             "projecting it from a 200-draw sample")
    parser.add_argument("--full-draws", type=int, default=bench_ensemble.FULL_DRAWS,
                        metavar="N", help="draws of the --full ensemble (to try it on fewer)")
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
        begun = time.perf_counter()
        targets += module.main()
        print(f"({module.__name__}: {time.perf_counter() - begun:.0f} s)")
    begun = time.perf_counter()
    targets += bench_ensemble.main(full=args.full, full_draws=args.full_draws)
    print(f"(bench_ensemble: {time.perf_counter() - begun:.0f} s)")
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
