"""How a resumed ensemble's start-up grows with the draws already in the store (information).

Before a resumed ``rareflow ensemble`` starts its cluster, the driver finds the run, checks
every done draw's files for damage (:meth:`~rareflow.store.RunStore.damaged_draws`: per file a
``stat`` and a read of its first and last bytes) and reads the done draws' numbers. This
script fills run stores with ``DONE`` done draws of a 17-year baseline ensemble (one real
draw's files, written again under each draw number, without fsync) and times a call of
:func:`~rareflow.runs.ensemble.run_ensemble` with the same arguments, which finds every draw
done and returns before any cluster starts: that is the resume's start-up before the cluster,
scenario and world loading included; the damage check is also timed alone. The file cache is
warm (the files were just written), as on a resume minutes after a stop.

    python benchmarks/bench_resume.py [DONE ...]    # default 1 1000 4000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import Target, header

SCENARIO = "baseline"
SEED = 1
YEARS = range(2024, 2041)
DONE = (1, 1000, 4000)
COMMIT_BATCH = 100


def fill_store(store_dir: Path, done: int) -> None:
    """A store holding a ``done``-draw baseline ensemble with every draw done."""
    from rareflow.runs.ensemble.driver import _run_args, ensemble_spec
    from rareflow.runs.ensemble.worker import data_version, run_batch
    from rareflow.runs.runner import scenario_world
    from rareflow.scenario import load_scenario
    from rareflow.store import DrawFiles, RunStore

    scenario = load_scenario(SCENARIO)
    world = scenario_world(scenario)
    args = _run_args(scenario, data_version(world), SEED, done, tuple(YEARS))
    with RunStore(store_dir, durable=False) as store:
        run = store.create_run(**args)  # type: ignore[arg-type]
        spec = ensemble_spec(run.run_key, run.run_id, scenario, world, tuple(YEARS), SEED)
        (real,) = run_batch(spec, [0])
        assert isinstance(real, DrawFiles), real
        for start in range(0, done, COMMIT_BATCH):
            store.commit_files(run.run_id, [
                DrawFiles(run.run_id, draw, real.layout_id, real.layout_text, real.attrs,
                          real.blobs)
                for draw in range(start, min(done, start + COMMIT_BATCH))])


def main(sizes: tuple[int, ...] = DONE) -> list[Target]:
    from rareflow.runs.ensemble import run_ensemble
    from rareflow.store import RunStore

    header("resume start-up before the cluster, by done draws in the store (warm file cache)")
    rows = []
    for done in sizes:
        with tempfile.TemporaryDirectory() as folder:
            store_dir = Path(folder) / "store"
            start = time.perf_counter()
            fill_store(store_dir, done)
            filled = time.perf_counter() - start
            start = time.perf_counter()
            outcome = run_ensemble(SCENARIO, draws=done, seed=SEED, years=YEARS,
                                   store_dir=store_dir)
            resume = time.perf_counter() - start
            assert outcome.ran == 0 and outcome.resumed == done, outcome
            with RunStore(store_dir, read_only=True) as store:
                start = time.perf_counter()
                store.damaged_draws(outcome.run_id)
                check = time.perf_counter() - start
        rows.append((done, resume, check))
        print(f"{done:>6} done draws: resume start-up {resume:.2f} s, of it the damage check "
              f"{check:.2f} s ({check / done * 1e3:.2f} ms a draw); store filled in "
              f"{filled:.0f} s")
    (first, first_resume, _), (last, last_resume, _) = rows[0], rows[-1]
    if last > first:
        per_draw = (last_resume - first_resume) / (last - first)
        print(f"start-up grows {per_draw * 1e3:.2f} ms per done draw: "
              f"≈ {first_resume + per_draw * 10_000:.1f} s with 10,000 done draws")
    return []


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or DONE)
