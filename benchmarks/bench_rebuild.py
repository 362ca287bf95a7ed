"""Build once and update vs rebuild every year, on the same 17 year LPs: target ≥ 10× faster.

* **update** (the engine's way): one ``MarketModel`` per world; each year ``set_year`` pushes
  only the bounds and costs that changed and ``solve`` warm-starts HiGHS from the last basis.
* **rebuild**: what a modelling layer that rebuilds would do: each year ``MarketModel(world)``
  (network tables, matrix, HiGHS model) + ``set_year`` + a solve from scratch.
* **re-pass** (information): the network tables kept, but a fresh HiGHS model passed and
  solved cold each year — the floor for any approach that does not keep the solver.

The LPs are those of ``simulate(world, 2024..2040)`` (recorded, then replayed). The target
compares the cost per year; the one-off build of the update path is reported separately
(it is paid once per world, or once per ensemble worker).
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from _common import PhaseTimer, Target, bundled_or_tiny_world, header, record_year_lps
from rareflow.engine.market import MarketModel
from rareflow.engine.network import build_network

REPEAT = 3


def main() -> list[Target]:
    world, label = bundled_or_tiny_world()
    header(f"build once + update vs rebuild every year ({label})")
    lps = record_year_lps(world)
    n_years = len(lps)
    best: dict[str, float] = {}
    objectives: dict[str, list[float]] = {}
    for _ in range(REPEAT):
        timer = PhaseTimer()
        with timer.phase("update: build (once)"):
            model = MarketModel(world)
        update = []
        with timer.phase("update: years"):
            for inputs, adjustments in lps:
                model.set_year(inputs, adjustments)
                update.append(model.solve().objective)
        rebuild = []
        with timer.phase("rebuild: years"):
            for inputs, adjustments in lps:
                fresh = MarketModel(world)
                fresh.set_year(inputs, adjustments)
                rebuild.append(fresh.solve(warm=False).objective)
        network = build_network(world)
        repass = []
        with timer.phase("re-pass: years"):
            for inputs, adjustments in lps:
                passed = MarketModel(world, network)
                passed.set_year(inputs, adjustments)
                repass.append(passed.solve(warm=False).objective)
        for name, seconds in timer.seconds.items():
            best[name] = min(best.get(name, np.inf), seconds)
        objectives = {"update": update, "rebuild": rebuild, "re-pass": repass}

    reference = np.asarray(objectives["rebuild"])
    for name in ("update", "re-pass"):
        gap = np.max(np.abs(np.asarray(objectives[name]) - reference) / np.maximum(
            1.0, np.abs(reference)))
        print(f"objective agreement {name} vs rebuild: max relative gap {gap:.2e}")
    print(f"{'path':<24}{'total s':>10}{'ms / year':>12}")
    for name, seconds in best.items():
        per_year = seconds / (1 if "once" in name else n_years) * 1e3
        print(f"{name:<24}{seconds:>10.3f}{per_year:>12.2f}")
    per_update = best["update: years"] / n_years
    per_rebuild = best["rebuild: years"] / n_years
    with_build = best["rebuild: years"] / (best["update: years"] + best["update: build (once)"])
    print(f"speed-up per year: {per_rebuild / per_update:.1f}x; over one {n_years}-year run "
          f"with the single build counted: {with_build:.1f}x; vs re-pass: "
          f"{best['re-pass: years'] / best['update: years']:.1f}x")
    _linopy_note()
    return [Target("update_vs_rebuild_speedup", per_rebuild / per_update, 10.0, "x",
                   higher_is_better=True)]


def _linopy_note() -> None:
    if importlib.util.find_spec("linopy") is None:
        print("linopy rebuild: skipped (linopy is not installed; the rebuild path above is "
              "rareflow's own vectorised pandas build)")
        return
    print("linopy rebuild: not implemented (not required; see docs/performance.md)")


if __name__ == "__main__":
    start = time.perf_counter()
    for target in main():
        print(target.line())
    print(f"({time.perf_counter() - start:.1f} s)")
