"""Ensemble targets (DESIGN §7), measured side by side on real Dask LocalClusters.

* **1,000 draws × 17 years in under 2 minutes on 2 cores.** By default all 1,000 draws run,
  timed from the call to the last stored draw (cluster start-up included); ``--quick``
  projects the time from a measured sample instead (``SAMPLE_DRAWS`` draws × 17 years on 2
  workers after the cluster is up, plus the measured start-up).
* **Throughput from 1 to 2 workers ≥ 1.7×**: the same draws per worker on 1 and on 2 workers,
  alternated ``SCALING_REPEATS`` times; the best rate of each counts.
* **Peak memory does not grow with the number of draws**: peak resident memory of the driver
  and its workers together, sampled every 50 ms, for 200 and for 1,000 draws (2 years each,
  so the pair fits in a benchmark run; memory would grow with the number of draws held, not
  with years per draw).

Every ensemble writes to a fresh temporary run store (with fsync, as users run it).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil

from _common import Target, header
from rareflow.runs.ensemble import run_ensemble

SCENARIO = "baseline"
DRAWS = 1000
SAMPLE_DRAWS = 120
SCALING_REPEATS = 3
YEARS = range(2024, 2041)
MEMORY_YEARS = range(2024, 2026)


@contextmanager
def peak_memory() -> Iterator[Callable[[], float]]:
    """Sample the resident memory of this process and its children; yields a peak getter."""
    me = psutil.Process()
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            peak[0] = max(peak[0], total / 2**20)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield lambda: peak[0]
    finally:
        stop.set()
        thread.join()


def timed_ensemble(draws: int, workers: int, years: range) -> tuple[float, float]:
    """(seconds from start to the last draw, seconds of cluster start-up before the first)."""
    with tempfile.TemporaryDirectory() as store:
        started = time.perf_counter()
        first: list[float] = []

        def progress(_: object) -> None:
            if not first:
                first.append(time.perf_counter())

        outcome = run_ensemble(SCENARIO, draws=draws, seed=1, years=years, store_dir=store,
                               workers=workers, progress=progress)
        elapsed = time.perf_counter() - started
        if outcome.failures:
            raise RuntimeError(f"{len(outcome.failures)} draws failed: "
                               f"{next(iter(outcome.failures.values()))}")
    return elapsed, (first[0] - started) if first else elapsed


def throughput(draws: int, workers: int) -> tuple[float, float]:
    """(draws per second once the cluster runs, total seconds) for ``draws`` × 17 years.

    A one-draw run measures start-up (cluster, model build, reference run) plus one draw per
    worker's worth of time; ``draws`` then take ``draws / workers − 1`` draw times more, so the
    rate is ``(draws − workers) / (total − one-draw run)``.
    """
    elapsed, _ = timed_ensemble(1, workers, YEARS)
    total, _ = timed_ensemble(draws, workers, YEARS)
    return (draws - workers) / max(total - elapsed, 1e-9), total


def main(full: bool = True) -> list[Target]:
    header("ensembles")
    # Alternate the two set-ups and keep each one's best rate: other work on a small shared
    # machine only ever slows a run down, so the best of a few is the least disturbed.
    one_rates, two_rates = [], []
    for repeat in range(SCALING_REPEATS):
        one, one_total = throughput(SAMPLE_DRAWS // 2, workers=1)
        two, two_total = throughput(SAMPLE_DRAWS, workers=2)
        one_rates.append(one)
        two_rates.append(two)
        print(f"run {repeat + 1}: 1 worker {SAMPLE_DRAWS // 2} draws x 17 years in "
              f"{one_total:.1f} s ({one:.2f} draws/s after start-up); 2 workers "
              f"{SAMPLE_DRAWS} draws in {two_total:.1f} s ({two:.2f} draws/s)")
    one_rate, two_rate = max(one_rates), max(two_rates)
    print(f"best: 1 worker {one_rate:.2f} draws/s, 2 workers {two_rate:.2f} draws/s")
    startup, _ = timed_ensemble(1, 2, YEARS)
    if full:
        seconds, _ = timed_ensemble(DRAWS, 2, YEARS)
        print(f"{DRAWS} draws x 17 years on 2 workers: {seconds:.1f} s (measured)")
    else:
        seconds = startup + DRAWS / two_rate
        print(f"{DRAWS} draws x 17 years on 2 workers: {seconds:.1f} s (projected: start-up "
              f"{startup:.1f} s + {DRAWS} / {two_rate:.2f} draws/s)")
    peaks = {}
    for draws in (200, DRAWS):
        with peak_memory() as peak:
            elapsed, _ = timed_ensemble(draws, 2, MEMORY_YEARS)
        peaks[draws] = peak()
        print(f"peak memory, {draws} draws x 2 years on 2 workers: {peaks[draws]:.0f} MiB "
              f"({elapsed:.1f} s)")
    label = "measured" if full else "projected"
    return [
        Target(f"ensemble_{DRAWS}_draws_x_17_years_seconds ({label})", seconds, 120.0, "s"),
        Target("ensemble_dask_1_to_2_workers_speedup", two_rate / one_rate, 1.7, "x",
               higher_is_better=True),
        Target("ensemble_peak_memory_1000_vs_200_draws_ratio", peaks[DRAWS] / peaks[200], 1.2,
               ""),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="project the 1,000-draw time from a sample instead of running it")
    for target in main(full=not parser.parse_args().quick):
        print(target.line())
