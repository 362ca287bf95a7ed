"""One scenario 2024–2040, build included: < 1 s on the bundled world, < 2 s for the heaviest.

Targets (issue #21):

* ``scenario_2024_2040_seconds`` < 1 s: the whole ``simulate(world, 2024..2040)`` call on the
  bundled 2024 world (LP build included), as a user would run it; the median of ``REPEAT``
  runs. The first call in a process also pays one-off imports (xarray loads dask.array lazily
  on first use); it is printed but not counted.
* ``heaviest_scenario_2024_2040_seconds`` < 2 s: every bundled scenario that runs on a world
  covering 2024–2040 is timed once with ``simulate_scenario`` (overrides and policies applied,
  build included; the world is loaded beforehand, as for the first target); the one that took
  the most CPU time (less disturbed by other processes than wall time) is the heaviest, and the
  median wall time of ``HEAVIEST_REPEAT`` runs of it is the measurement. Scenarios on
  other worlds (the 2010 backtest) are listed as skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from _common import YEARS, Target, bundled_or_tiny_world, header, median_time
from rareflow.engine.simulate import simulate

REPEAT = 5
HEAVIEST_REPEAT = 3


def main() -> list[Target]:
    world, label = bundled_or_tiny_world()
    header(f"one scenario {YEARS.start}–{YEARS.stop - 1} on the {label}")
    _, first = median_time(lambda: simulate(world, YEARS), 1)
    median, times = median_time(lambda: simulate(world, YEARS), REPEAT)
    print(f"simulate(world) first call in process : {first[0]:.3f} s (one-off imports included)")
    print(f"simulate(world) median of {REPEAT}         : {median:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    targets = [Target("scenario_2024_2040_seconds", median, 1.0, "s")]
    heaviest = _heaviest_scenario()
    if heaviest is None:
        targets.append(Target("heaviest_scenario_2024_2040_seconds", None, 2.0, "s",
                              skipped="no bundled scenario could run"))
        return targets
    name, run = heaviest
    heavy_median, heavy_times = median_time(run, HEAVIEST_REPEAT)
    print(f"heaviest scenario {name!r}, median of {HEAVIEST_REPEAT}: {heavy_median:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in heavy_times)})")
    targets.append(Target("heaviest_scenario_2024_2040_seconds", heavy_median, 2.0, "s",
                          note=f"{name}, heaviest by CPU time of one run each"))
    return targets


def _heaviest_scenario() -> tuple[str, Callable[[], object]] | None:
    """Time every bundled 2024–2040 scenario once; the slowest one's name and a runner."""
    from rareflow.policy.program import simulate_scenario
    from rareflow.runs.runner import scenario_world
    from rareflow.scenario import load_scenario
    from rareflow.scenario.library import bundled_names
    from rareflow.scenario.scenario import valid_years

    print(f"every bundled scenario {YEARS.start}–{YEARS.stop - 1} once, world loaded "
          "beforehand (simulate_scenario: overrides, policies, build, 17 years):")
    timed: dict[str, tuple[float, Callable[[], object]]] = {}
    for name in bundled_names():
        try:
            scenario = load_scenario(name)
            world = scenario_world(scenario)
            span = valid_years(world)
            if YEARS.start not in span or YEARS.stop - 1 not in span:
                print(f"  {name:<24} skipped (world {world.vintage}: "
                      f"{span.start}–{span.stop - 1})")
                continue
        except Exception as error:  # a scenario that does not load is not a speed problem
            print(f"  {name:<24} skipped ({error!r:.120})")
            continue

        def run(scenario: object = scenario, world: object = world) -> object:
            return simulate_scenario(scenario, world, YEARS)  # type: ignore[arg-type]

        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            run()
        except Exception as error:
            print(f"  {name:<24} failed ({error!r:.120})")
            continue
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        timed[name] = (cpu, run)
        print(f"  {name:<24} {seconds:.3f} s wall, {cpu:.3f} s CPU")
    if not timed:
        return None
    name = max(timed, key=lambda key: timed[key][0])
    print(f"heaviest (most CPU time): {name!r}")
    return name, timed[name][1]


if __name__ == "__main__":
    for target in main():
        print(target.line())
