"""Per ensemble draw, the share of its time spent outside HiGHS: target ≤ 40 % (issue #21).

One worker's work, in this process, as an ensemble runs it: the worker model is built from the
spec the driver sends (world as JSON, the baseline scenario, 17 years; the build, done once per
worker and ensemble, is reported but not counted), then one batch of ``DRAWS`` draws goes
through :meth:`~rareflow.runs.ensemble.worker.WorkerModel.run_draws` (drawn inputs, policies,
17 warm-started year solves, results and the batch's key series). Time is the CPU time of this
process (``time.process_time``), so other processes on a shared machine change it less than
wall time; HiGHS's share is the CPU time inside ``highspy.Highs.run`` (wrapped for the
measurement). Encoding the draws' Parquet files for the driver (the rest of a worker's task,
:func:`~rareflow.runs.ensemble.worker.run_batch`) is timed after it and reported as
information: the share with it counted is printed too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy

from _common import YEARS, Target, header

SCENARIO = "baseline"
SEED = 1
DRAWS = 20
TARGET_PERCENT = 40.0


@contextmanager
def highs_cpu() -> Iterator[dict[str, float]]:
    """Count the CPU seconds and calls of ``highspy.Highs.run`` while the block runs."""
    original = highspy.Highs.run
    counts = {"seconds": 0.0, "calls": 0.0, "iterations": 0.0}

    def run(self: Any) -> Any:
        start = time.process_time()
        try:
            return original(self)
        finally:
            counts["seconds"] += time.process_time() - start
            counts["calls"] += 1
            counts["iterations"] += self.getInfo().simplex_iteration_count

    highspy.Highs.run = run  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        highspy.Highs.run = original  # type: ignore[method-assign]


def main() -> list[Target]:
    from rareflow.runs.ensemble.driver import ensemble_spec
    from rareflow.runs.ensemble.worker import WorkerModel
    from rareflow.runs.runner import scenario_world
    from rareflow.scenario import load_scenario
    from rareflow.store.staging import encode_draw_files

    header(f"one worker's batch of {DRAWS} {SCENARIO!r} draws x {len(YEARS)} years "
           "(CPU time of this process)")
    scenario = load_scenario(SCENARIO)
    world = scenario_world(scenario)
    spec = ensemble_spec("bench", "bench", scenario, world, tuple(YEARS), SEED)
    start = time.process_time()
    model = WorkerModel(spec)
    build = time.process_time() - start
    print(f"worker model build (world from JSON, market, reference run; once per worker): "
          f"{build:.2f} CPU s")
    model.run_draws([DRAWS])  # one draw first: lazily built caches are part of the build
    draws = list(range(DRAWS))
    with highs_cpu() as highs:
        start = time.process_time()
        outcomes = model.run_draws(draws)
        cpu = time.process_time() - start
    failed = [d for d, outcome in outcomes.items() if not hasattr(outcome, "data_vars")]
    if failed:
        print(f"draws that failed: {failed}")
    start = time.process_time()
    for index, outcome in outcomes.items():
        if index not in failed:
            encode_draw_files(spec.run_id, index, outcome)  # type: ignore[arg-type]
    encode = time.process_time() - start
    share = 100 * (1 - highs["seconds"] / cpu)
    print(f"per draw: {cpu / DRAWS * 1e3:.0f} CPU ms, of it HiGHS run() "
          f"{highs['seconds'] / DRAWS * 1e3:.0f} ms ({highs['calls'] / DRAWS:.1f} solves, "
          f"{highs['iterations'] / DRAWS:.0f} simplex iterations), outside HiGHS "
          f"{(cpu - highs['seconds']) / DRAWS * 1e3:.0f} ms ({share:.1f} %)")
    with_encode = 100 * (1 - highs["seconds"] / (cpu + encode))
    print(f"encoding the draws' files for the driver: {encode / DRAWS * 1e3:.0f} CPU ms a draw; "
          f"with it counted {with_encode:.1f} % of a draw is outside HiGHS (information)")
    return [Target("per_draw_outside_highs_share", share, TARGET_PERCENT, "%", at_most=True,
                   note=f"CPU time of WorkerModel.run_draws, {DRAWS} draws x {len(YEARS)} years")]


if __name__ == "__main__":
    for target in main():
        print(target.line())
