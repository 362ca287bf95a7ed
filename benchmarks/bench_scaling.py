"""Scaling study: time per year-solve as the world grows (random worlds, 1× to 8×).

The base random world has 4 regions, 3 deposits and 2 facilities per stage; the 2×, 4× and 8×
worlds multiply all three. For each: LP size, one-off build (the per-model index maps
included), and per year (2024–2040, model built once) the time of ``set_year``, HiGHS's own
``run()``, the rest of ``solve`` and ``to_dataset``, with the share spent outside HiGHS.
"""

from __future__ import annotations

import time

from _common import YEARS, Target, header
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import MarketModel, YearMaps
from rareflow.engine.results import result_plan, to_dataset
from rareflow.testing import random_world

BASE = (4, 3, 2)  # regions, deposits, facilities per stage
SCALES = (1, 2, 4, 8)
SEED = 7


def main() -> list[Target]:
    header("scaling: time per year-solve as the world grows (random_world, seed 7)")
    _warm_up()
    print(f"{'scale':>5} {'regions':>7} {'facil.':>6} {'cols':>7} {'rows':>6} {'nnz':>7} "
          f"{'build s':>8} {'set_year':>9} {'HiGHS':>9} {'solve+':>7} {'to_ds':>7} "
          f"{'year ms':>8} {'outside':>8}")
    for scale in SCALES:
        regions, deposits, per_stage = (value * scale for value in BASE)
        world = random_world(SEED, regions, deposits, per_stage)
        inputs = [default_inputs(world, year) for year in YEARS]
        start = time.perf_counter()
        model = MarketModel(world)
        model._year_maps = YearMaps(model)  # per-model index maps: one-off, booked as build
        result_plan(model)
        build = time.perf_counter() - start
        phases = {"set_year": 0.0, "highs": 0.0, "solve_rest": 0.0, "to_dataset": 0.0}
        for year, year_inputs in zip(YEARS, inputs, strict=True):
            start = time.perf_counter()
            model.set_year(year_inputs)
            phases["set_year"] += time.perf_counter() - start
            start = time.perf_counter()
            solution = model.solve()
            phases["solve_rest"] += time.perf_counter() - start - solution.solve_seconds
            phases["highs"] += solution.solve_seconds
            start = time.perf_counter()
            to_dataset(model, solution, year)
            phases["to_dataset"] += time.perf_counter() - start
        per = {name: seconds / len(YEARS) * 1e3 for name, seconds in phases.items()}
        total = sum(per.values())
        print(f"{scale:>4}x {regions:>7} {len(world.facilities):>6} {model.lp.n_cols:>7} "
              f"{model.lp.n_rows:>6} {model.lp.matrix().nnz:>7} {build:>8.3f} "
              f"{per['set_year']:>7.2f}ms {per['highs']:>7.2f}ms {per['solve_rest']:>5.2f}ms "
              f"{per['to_dataset']:>5.2f}ms {total:>8.2f} {1 - per['highs'] / total:>8.1%}")
    print("(build = network + HiGHS model + per-model index maps; year ms = set_year + solve + "
          "to_dataset, averaged over the 17 years, first (cold) solve included)")
    return []


def _warm_up() -> None:
    """Pay one-off imports (xarray loads dask.array lazily) before timing anything."""
    world = random_world(SEED, *BASE)
    model = MarketModel(world)
    model.set_year(default_inputs(world, YEARS.start))
    to_dataset(model, model.solve(), YEARS.start)


if __name__ == "__main__":
    main()
