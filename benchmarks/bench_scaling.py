"""Scaling study: time per year-solve as the world grows (random worlds, 1× to 8×).

The base random world has 4 regions, 3 deposits and 2 facilities per stage; the 2×, 4× and 8×
worlds multiply all three. For each: LP size, the one-off build (the per-model index maps
included), the first (cold) HiGHS solve, and per warm year (2025–2040, the model built once and
warm-started from the previous year) the time of ``set_year``, HiGHS's own ``run()``, the rest
of ``solve`` and ``to_dataset``, with the share spent outside HiGHS. The last line gives how
each cost grows per doubling of the world (geometric mean of the three doublings).
"""

from __future__ import annotations

import math
import time

from _common import YEARS, Target, header
from rareflow.engine.inputs import DefaultInputs, YearInputs
from rareflow.engine.market import MarketModel
from rareflow.engine.results import result_plan, to_dataset
from rareflow.testing import random_world

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
    return []


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
    main()
