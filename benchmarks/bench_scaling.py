"""Scaling study: time per year-solve as the world grows (random worlds, 1× to 8×).

The base random world has 4 regions, 3 deposits and 2 facilities per stage; the 2×, 4× and 8×
worlds multiply all three. For each: LP size, the one-off build (the per-model index maps
included), the first (cold) HiGHS solve, and per warm year (2025–2040, the model built once and
warm-started from the previous year) the time of ``set_year``, HiGHS's own ``run()``, the rest
of ``solve`` and ``to_dataset``, with the share spent outside HiGHS. The last line gives how
each cost grows per doubling of the world (geometric mean of the three doublings).

Then the bundled world against worlds generated from it (:func:`~rareflow.testing.worlds.
scaled_world`: every region but China cloned, every facility twinned; capacities and demand
split so world totals stay the same; "17 el." worlds track all 17 rare earths one by one,
:func:`~rareflow.testing.elements.individual_elements`, instead of the bundled eight groups):
a whole ``simulate`` 2024–2040 on each, split into the build (network, HiGHS model, index
maps), HiGHS's cold first solve, its warm re-solves and all the Python around them
(``set_year``, results, the simulator). Target (issue #21): the 4× world (all 17 rare earths,
≈ 60 regions, ≈ 400 facilities) runs 2024–2040, build included, in < 10 s.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence

from _common import YEARS, Target, bundled_or_tiny_world, header
from rareflow.engine.inputs import DefaultInputs, YearInputs
from rareflow.engine.market import MarketModel, Solution
from rareflow.engine.results import result_plan, to_dataset
from rareflow.engine.simulate import simulate
from rareflow.model.world import World
from rareflow.testing import random_world
from rareflow.testing.worlds import scaled_world

BASE = (4, 3, 2)  # regions, deposits, facilities per stage
SCALES = (1, 2, 4, 8)
SEED = 7
PHASES = ("set_year", "highs", "solve_rest", "to_dataset")


def main() -> list[Target]:
    header("scaling: time per year-solve as the world grows (random_world, seed 7)")
    _warm_up()
    print(f"{'scale':>5} {'regions':>7} {'facil.':>6} {'cols':>7} {'rows':>6} {'nnz':>7} "
          f"{'build s':>8} {'cold ms':>8} {'set_year':>9} {'HiGHS':>9} {'solve+':>7} "
          f"{'to_ds':>7} {'year ms':>8} {'outside':>8}")
    rows: list[dict[str, float]] = []
    for scale in SCALES:
        regions, deposits, per_stage = (value * scale for value in BASE)
        world = random_world(SEED, regions, deposits, per_stage)
        make_inputs = DefaultInputs(world)
        inputs = [make_inputs(year) for year in YEARS]
        start = time.perf_counter()
        model = MarketModel(world)  # with the per-model index maps of ``set_year``
        result_plan(model)  # and of ``to_dataset``: one-off, booked as build
        build = time.perf_counter() - start
        per_year = _years(model, inputs)
        cold = per_year.pop(0)
        warm = {name: sum(year[name] for year in per_year) / len(per_year) for name in PHASES}
        total = sum(warm.values())
        row = {"cols": model.lp.n_cols, "build": build, "cold": cold["highs"], **warm,
               "total": total}
        rows.append(row)
        print(f"{scale:>4}x {regions:>7} {len(world.facilities):>6} {model.lp.n_cols:>7} "
              f"{model.lp.n_rows:>6} {model.lp.matrix().nnz:>7} {build:>8.3f} "
              f"{cold['highs'] * 1e3:>8.2f} {warm['set_year'] * 1e3:>7.2f}ms "
              f"{warm['highs'] * 1e3:>7.2f}ms {warm['solve_rest'] * 1e3:>5.2f}ms "
              f"{warm['to_dataset'] * 1e3:>5.2f}ms {total * 1e3:>8.2f} "
              f"{1 - warm['highs'] / total:>8.1%}")
    print("(build = network + HiGHS model + per-model index maps; cold = HiGHS run() of the first "
          "year; the other columns are means over the 16 warm-started years)")
    doublings = math.log2(SCALES[-1] / SCALES[0])
    growth = {name: (rows[-1][name] / rows[0][name]) ** (1 / doublings)
              for name in ("cols", "build", "cold", *PHASES, "total")}
    print("growth per doubling: " + ", ".join(f"{name} x{factor:.2f}"
                                              for name, factor in growth.items()))
    return [bundled_scaling()]


#: (label, region copies, facility twins, rare earths one by one) of the worlds made from the
#: bundled one; "1x17" and "4x" separate the growth due to the elements from that due to the
#: regions and facilities. The target is the last row's.
BUNDLED_SCALES = (("1x", 0, 0, False), ("1x17", 0, 0, True), ("2x", 1, 1, False),
                  ("4x", 2, 1, False), ("4x17", 2, 1, True))


def bundled_scaling(only: Sequence[str] = ()) -> Target:
    """Whole ``simulate`` runs on the bundled world and on larger worlds made from it.

    ``only``: labels of :data:`BUNDLED_SCALES` to run instead of all, in that order (a label
    named twice runs twice), e.g. ``("4x17",) * 3`` to time the target's world alone; the
    target is then that of the last one run.
    """
    scales = ([scale for name in only for scale in BUNDLED_SCALES if scale[0] == name]
              if only else list(BUNDLED_SCALES))
    if not scales:
        raise ValueError(f"no world named {list(only)}; known: "
                         f"{[scale[0] for scale in BUNDLED_SCALES]}")
    world, label = bundled_or_tiny_world()
    _warm_up()
    result_plan(MarketModel(world))  # the first build of a large world pays ≈ 0.5 s once
    header(f"scaling the {label}: simulate {YEARS.start}–{YEARS.stop - 1}, build included")
    print(f"{'world':>5} {'regions':>7} {'facil.':>6} {'elem.':>5} {'cols':>7} {'rows':>6} "
          f"{'nnz':>7} {'total s':>8} {'build s':>8} {'cold s':>7} {'warm s':>7} "
          f"{'warm/yr':>8} {'python s':>9} {'cpu s':>6} {'it':>7}")
    rows: list[dict[str, float]] = []
    for name, copies, twins, individual in scales:
        scaled = (world if copies == twins == 0 and not individual
                  else scaled_world(world, copies, twins, individual=individual))
        start, cpu_start = time.perf_counter(), time.process_time()
        model = _TimedModel(scaled)
        solves = model.solves
        result_plan(model)
        build = time.perf_counter() - start
        simulate(scaled, YEARS, model=model)
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        cold, warm = solves[0], sum(solves[1:])
        row = {"cols": model.lp.n_cols, "total": total, "build": build, "cold": cold,
               "warm": warm, "python": total - build - cold - warm}
        rows.append(row)
        print(f"{name:>5} {len(scaled.regions):>7} {len(scaled.facilities):>6} "
              f"{len(scaled.elements):>5} "
              f"{model.lp.n_cols:>7} {model.lp.n_rows:>6} {model.lp.matrix().nnz:>7} "
              f"{total:>8.2f} {build:>8.2f} {cold:>7.2f} {warm:>7.2f} "
              f"{warm / max(len(solves) - 1, 1) * 1e3:>6.1f}ms {row['python']:>9.2f} "
              f"{cpu:>6.2f} {model.iterations[0]:>7}/{sum(model.iterations[1:])}")
    if scales[0][0] != scales[-1][0]:
        growth = {name: rows[-1][name] / rows[0][name]
                  for name in ("cols", "build", "cold", "warm", "python", "total")}
        print(f"{scales[-1][0]} / {scales[0][0]}: " + ", ".join(
            f"{name} x{factor:.1f}" for name, factor in growth.items()))
        fastest = max(("build", "cold", "warm", "python"), key=lambda name: growth[name])
        print(f"grows fastest: {fastest}")
    print("(cpu s: this process's CPU time, close to the wall time of a quiet machine; on a "
          "loaded one compare ratios; it: HiGHS's simplex iterations, cold / all warm years)")
    return Target("scaled_world_4x_2024_2040_seconds", rows[-1]["total"], 10.0, "s")


class _TimedModel(MarketModel):
    """A market model that keeps HiGHS's ``run()`` time and simplex iterations of each solve."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.solves: list[float] = []
        self.iterations: list[int] = []

    def solve(self, warm: bool = True) -> Solution:
        solution = super().solve(warm)
        self.solves.append(solution.solve_seconds)
        self.iterations.append(solution.iterations)
        return solution


def _years(model: MarketModel, inputs: list[YearInputs]) -> list[dict[str, float]]:
    """Seconds per phase of every year, solving the years in order on one model."""
    times = []
    for year, year_inputs in zip(YEARS, inputs, strict=True):
        start = time.perf_counter()
        model.set_year(year_inputs)
        set_year = time.perf_counter() - start
        start = time.perf_counter()
        solution = model.solve()
        solve = time.perf_counter() - start
        start = time.perf_counter()
        to_dataset(model, solution, year)
        times.append({"set_year": set_year, "highs": solution.solve_seconds,
                      "solve_rest": solve - solution.solve_seconds,
                      "to_dataset": time.perf_counter() - start})
    return times


def _warm_up() -> None:
    """Pay one-off imports (xarray loads dask.array lazily) before timing anything."""
    world = random_world(SEED, *BASE)
    model = MarketModel(world)
    model.set_year(DefaultInputs(world)(YEARS.start))
    to_dataset(model, model.solve(), YEARS.start)


if __name__ == "__main__":
    # ``python bench_scaling.py 4x17 4x17 4x17``: only those worlds made from the bundled one
    for target in main() if len(sys.argv) < 2 else [bundled_scaling(sys.argv[1:])]:
        print(target.line())
