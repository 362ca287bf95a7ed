"""Ensemble targets of issue #21, on real Dask LocalClusters of 2 single-threaded workers.

* ``ensemble_draws_per_second_2_workers`` ≥ 10: ``THROUGHPUT_DRAWS`` baseline draws × 17
  years through :func:`~rareflow.runs.ensemble.run_ensemble` (draws stored with fsync, as users
  run it) on a 2-worker cluster started beforehand. The rate counts only the time after both
  workers finished their first task (cluster up, worker models built, from Dask's task
  stream): draws stored after that moment divided by the seconds to the last one.
* ``ensemble_10000_draws_seconds`` < 1200, ``ensemble_stop_resume`` and
  ``ensemble_peak_memory_10000_vs_1000`` ≤ 1.2: ``rareflow ensemble`` runs as a subprocess (as
  a user runs it), is stopped with SIGINT to its process group (Ctrl-C) at random points and
  started again with the same arguments until it completes; its wall times are summed and the
  peak resident memory of its process tree is sampled every 0.1 s.

  - ``--full`` (``main(full=True)``): the 10,000-draw run for real (≈ 1 h on 2 cores today),
    stopped at ``FULL_STOPS`` random points; memory against an uninterrupted run of a tenth as
    many draws (1,000 × 17 years). ``full_draws`` replaces the 10,000 (to try the same code on
    fewer draws; the memory reference shrinks with it).
  - default: a ``SAMPLE_DRAWS``-draw run stopped once; the 10,000-draw time is projected from
    it (start-up + 10,000 draws at the rate measured between stops + the finish) and the line
    says so. Memory compares ``MEMORY_DRAWS`` uninterrupted runs of 2-year draws (memory would
    grow with the number of draws, not with years per draw, except the end's summary, which
    reads the key series of every draw).

  Stop/resume passes when: no start hangs on SIGINT or leaves processes behind (workers
  included); no draw done before a stop is lost or redone (the resumed run reports the stored
  draws as resumed and runs only the others, and every draw row was written once:
  ``attempts`` = 1); the run completes with every draw stored exactly once (one ``draw=``
  folder and one row per draw, none failed); and the files of a sample of draws (the last ones
  done before each stop, the first ones after it, a few random ones) equal those of the same
  draws computed without interruption in this process
  (:func:`~rareflow.runs.ensemble.worker.run_batch`, the function the workers run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from _common import Target, header
from rareflow.runs.ensemble import run_ensemble

SCENARIO = "baseline"
SEED = 1
YEARS = range(2024, 2041)
WORKERS = 2
THROUGHPUT_DRAWS = 200
TARGET_RATE = 10.0
FULL_DRAWS = 10_000
FULL_STOPS = 3
SAMPLE_DRAWS = 200
SAMPLE_STOPS = 1
TARGET_SECONDS = 1200.0
#: Uninterrupted runs whose peak memory is compared without ``--full`` (2-year draws).
MEMORY_DRAWS = (60, 600)
MEMORY_YEARS = range(2024, 2026)
#: Without ``--full``: the reference run of the memory ratio at full size (draws × 17 years).
FULL_MEMORY_REFERENCE = 1000
TARGET_MEMORY_RATIO = 1.2
#: Seconds a stopped ``rareflow ensemble`` gets to exit before it counts as hung.
STOP_TIMEOUT = 120.0
#: Seconds a stopped ensemble's workers get to exit after it did.
LEFTOVER_GRACE = 5.0
POLL_SECONDS = 0.25
SRC = str(Path(__file__).resolve().parents[1] / "src")


# -- throughput -------------------------------------------------------------------------------

def throughput(draws: int = THROUGHPUT_DRAWS) -> tuple[float, str]:
    """Draws per second on 2 workers once both have built their model; and how it was measured."""
    from distributed import get_task_stream

    from rareflow.runs.ensemble.driver import _client

    with tempfile.TemporaryDirectory() as store, _client(None, WORKERS) as client:
        address = client.scheduler.address
        events: list[tuple[float, int]] = []
        started = time.time()
        with get_task_stream(client) as stream:
            run_ensemble(SCENARIO, draws=draws, seed=SEED, years=YEARS, store_dir=store,
                         scheduler=address,
                         progress=lambda p: events.append((time.time(), p.done)))
        finished = time.time()
    first_stops: dict[str, float] = {}
    for task in stream.data:
        if not str(task.get("key", "")).startswith("run_batch"):
            continue
        stops = [s["stop"] for s in task.get("startstops", ()) if s["action"] == "compute"]
        if stops:
            worker = str(task["worker"])
            first_stops[worker] = min(first_stops.get(worker, stops[0]), *stops)
    if len(first_stops) == WORKERS:
        warm = max(first_stops.values())
        how = "after both workers' first task (task stream)"
    else:  # no task stream: after the first two batches
        warm = events[min(WORKERS, len(events)) - 1][0]
        how = f"after the first {WORKERS} batches (no task stream)"
    after = [(t, done) for t, done in events if t >= warm]
    t0, d0 = after[0]
    t1, d1 = events[-1]
    rate = (d1 - d0) / max(t1 - t0, 1e-9)
    print(f"{draws} draws x {len(YEARS)} years on {WORKERS} workers: {finished - started:.1f} s "
          f"in all (cluster started before); warm from {warm - started:.1f} s: {d1 - d0} draws "
          f"in {t1 - t0:.1f} s = {rate:.2f} draws/s")
    return rate, f"{d1 - d0} of {draws} draws x {len(YEARS)} years, {how}"


# -- rareflow ensemble as a subprocess ----------------------------------------------------------

@dataclass
class Segment:
    """One start of ``rareflow ensemble``: until it was stopped, or until it completed."""

    done_before: int
    seconds: float = 0.0
    #: (seconds since start, draw folders in the store) whenever the count changed.
    counts: list[tuple[float, int]] = field(default_factory=list)
    stop_latency: float | None = None
    hung: bool = False
    #: Processes of its group still alive ``LEFTOVER_GRACE`` s after it exited (then killed).
    leftover: int = 0
    returncode: int | None = None
    payload: dict[str, object] | None = None
    stderr: str = ""


@contextmanager
def tree_peak(process: psutil.Process) -> Iterator[Callable[[], float]]:
    """Sample the resident memory of ``process`` and its children (MiB); yields a peak getter."""
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            try:
                members = [process, *process.children(recursive=True)]
            except psutil.Error:
                members = []
            for member in members:
                try:
                    total += member.memory_info().rss
                except psutil.Error:
                    continue
            peak[0] = max(peak[0], total / 2**20)
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield lambda: peak[0]
    finally:
        stop.set()
        thread.join()


def stored_draw_folders(store: Path) -> int:
    """``draw=`` folders under the store's results (published draws; cheap to poll)."""
    total = 0
    try:
        for run in os.scandir(store / "results"):
            total += sum(1 for _ in os.scandir(run.path))
    except FileNotFoundError:
        return 0
    return total


def ensemble_args(store: Path, draws: int, years: range) -> list[str]:
    """The ``rareflow ensemble`` command line of these benchmarks."""
    return [sys.executable, "-m", "rareflow", "ensemble", SCENARIO, "--draws", str(draws),
            "--seed", str(SEED), "--years", f"{years.start}-{years.stop - 1}",
            "--store", str(store), "--workers", str(WORKERS), "--json"]


def run_segment(store: Path, draws: int, years: range, stop_at: int | None,
                peaks: list[float]) -> Segment:
    """Start ``rareflow ensemble``; with ``stop_at``, SIGINT it once that many draws are stored."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [SRC, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}
    segment = Segment(done_before=stored_draw_folders(store))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        # SIGINT's default action in the child even when this runs under nohup (ignored there)
        process = subprocess.Popen(ensemble_args(store, draws, years), stdout=out, stderr=err,
                                   env=environment, start_new_session=True,
                                   preexec_fn=_default_sigint)
        last = segment.done_before
        with tree_peak(psutil.Process(process.pid)) as peak:
            while process.poll() is None:
                count = stored_draw_folders(store)
                if count != last:
                    segment.counts.append((time.perf_counter() - started, count))
                    last = count
                if stop_at is not None and count >= stop_at:
                    os.killpg(process.pid, signal.SIGINT)
                    stopped = time.perf_counter()
                    try:
                        process.wait(STOP_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        segment.hung = True
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()
                    segment.stop_latency = time.perf_counter() - stopped
                    break
                time.sleep(POLL_SECONDS)
            peaks.append(peak())
        segment.seconds = time.perf_counter() - started
        segment.returncode = process.returncode
        count = stored_draw_folders(store)
        if count != last:
            segment.counts.append((segment.seconds, count))
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        segment.stderr = err.read().decode()[-2000:]
    if stop_at is None and text.strip():
        try:
            segment.payload = json.loads(text)
        except json.JSONDecodeError:
            segment.stderr += "\n(stdout was not JSON) " + text[-500:]
    segment.leftover = _group_left(process.pid)
    _reap_group(process.pid)
    return segment


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default action, as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_left(pgid: int) -> int:
    """Processes of group ``pgid`` still alive after :data:`LEFTOVER_GRACE` seconds."""
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        alive = 0
        for proc in psutil.process_iter():
            with suppress(psutil.Error, OSError):
                if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                    alive += 1
        if alive == 0 or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


def _reap_group(pgid: int) -> None:
    """Kill what is left of a stopped ensemble's process group (workers that outlive it)."""
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class StopResume:
    """A stopped-and-resumed ``rareflow ensemble`` run and what was checked on it."""

    draws: int
    segments: list[Segment]
    peak_mib: float
    problems: list[str]
    sample: list[int]

    @property
    def seconds(self) -> float:
        """Wall time of every start together."""
        return sum(s.seconds for s in self.segments)

    def steady_rate(self) -> float:
        """Draws per second while draws were being stored (first to last count of each start)."""
        stored = elapsed = 0.0
        for segment in self.segments:
            if len(segment.counts) >= 2:
                stored += segment.counts[-1][1] - segment.counts[0][1]
                elapsed += segment.counts[-1][0] - segment.counts[0][0]
        return stored / elapsed if elapsed > 0 else float("nan")

    def projected(self, draws: int) -> tuple[float, str]:
        """Seconds an uninterrupted run of ``draws`` would take, and how that was worked out."""
        first, last = self.segments[0], self.segments[-1]
        start_seconds, start_count = first.counts[0]
        finish = last.seconds - last.counts[-1][0]
        rate = self.steady_rate()
        seconds = start_seconds + (draws - start_count) / rate + finish
        return seconds, (f"start-up to the first {start_count} stored draws {start_seconds:.1f} s"
                         f" + {draws - start_count} draws at {rate:.2f} draws/s + finish after "
                         f"the last draw (summary) {finish:.1f} s")


def stop_resume(draws: int, stops: int, years: range = YEARS) -> StopResume:
    """Run ``draws`` draws, SIGINT at ``stops`` random points, resume until complete; check."""
    rng = random.Random()
    # stop points spread over the run, each at a random point of its part
    points = sorted(int(draws * (i + rng.uniform(0.15, 0.85)) / (stops + 1))
                    for i in range(stops))
    problems: list[str] = []
    segments: list[Segment] = []
    peaks: list[float] = []
    done_sets: list[set[int]] = []
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        for point in [*points, None]:
            segment = run_segment(store, draws, years, point, peaks)
            segments.append(segment)
            done = _done_draws(store)
            state = (f"stopped at {point} draws: {len(done)} stored"
                     if point is not None else f"completed: {len(done)} stored")
            latency = (f", exited {segment.stop_latency:.1f} s after SIGINT (exit status "
                       f"{segment.returncode})" if segment.stop_latency is not None else "")
            first_new = (f"; first new draws after {segment.counts[0][0]:.1f} s"
                         if segment.counts else "")
            print(f"  start {len(segments)}: {segment.seconds:.1f} s, {segment.done_before} "
                  f"draws stored before{first_new}; {state}{latency}")
            if segment.hung:
                problems.append(f"start {len(segments)} did not exit within {STOP_TIMEOUT:.0f} s "
                                "of SIGINT (killed)")
            if point is not None and segment.stop_latency is None:
                problems.append(f"start {len(segments)} completed before its stop point")
            elif point is not None and segment.returncode == 0:
                problems.append(f"start {len(segments)} went on to the end after SIGINT")
            if segment.leftover:
                problems.append(f"start {len(segments)} left {segment.leftover} processes "
                                f"running {LEFTOVER_GRACE:.0f} s after it exited (killed)")
            if done_sets and not done_sets[-1] <= done:
                problems.append(f"draws lost at a stop: {sorted(done_sets[-1] - done)[:10]}")
            done_sets.append(done)
            if point is None and segment.returncode != 0:
                problems.append(f"the last start exited with {segment.returncode}: "
                                f"{segment.stderr[-300:]}")
        problems += _check_complete(store, draws, segments[-1], done_sets)
        sample = _sample(draws, done_sets[:-1], rng)
        problems += _check_sample(store, sample, years)
    return StopResume(draws, segments, max(peaks, default=0.0), problems, sample)


def _done_draws(store: Path) -> set[int]:
    from rareflow.store import RunStore

    if not (store / "runs.duckdb").exists():
        return set()
    with RunStore(store, read_only=True) as opened:
        runs = opened.list_runs()
        return opened.completed_draws(runs[0].run_id) if runs else set()


def _check_complete(store: Path, draws: int, last: Segment,
                    done_sets: list[set[int]]) -> list[str]:
    """Every draw stored exactly once; the last start resumed the stored ones and ran the rest."""
    from rareflow.store import RunStore

    problems = []
    before = len(done_sets[-2]) if len(done_sets) > 1 else 0
    payload = last.payload or {}
    if payload.get("resumed") != before or payload.get("ran") != draws - before:
        problems.append(f"the last start resumed {payload.get('resumed')} and ran "
                        f"{payload.get('ran')} draws, not {before} and {draws - before}")
    with RunStore(store, read_only=True) as opened:
        runs = opened.list_runs()
        if len(runs) != 1:
            return [*problems, f"{len(runs)} runs in the store, not 1"]
        run = runs[0]
        rows = opened.query(
            "SELECT count(*) AS n, count(DISTINCT draw) AS draws, max(attempts) AS attempts, "
            "count(*) FILTER (WHERE status <> 'done') AS not_done FROM draws WHERE run_id = ?",
            [run.run_id]).iloc[0]
    if (int(rows["n"]), int(rows["draws"]), int(rows["not_done"])) != (draws, draws, 0):
        problems.append(f"draw rows: {int(rows['n'])} rows for {int(rows['draws'])} draws, "
                        f"{int(rows['not_done'])} not done (want {draws}, {draws}, 0)")
    if int(rows["attempts"]) != 1:
        problems.append(f"a draw was written {int(rows['attempts'])} times")
    folders = stored_draw_folders(store)
    if folders != draws:
        problems.append(f"{folders} draw folders for {draws} draws")
    return problems


def _sample(draws: int, stopped: list[set[int]], rng: random.Random) -> list[int]:
    """Draws to compare: around each stop (last done before, first done after), and random."""
    chosen: set[int] = set()
    for done in stopped:
        if done:
            chosen.update(sorted(done)[-2:])
        chosen.update(sorted(set(range(draws)) - done)[:2])
    chosen.update(rng.sample(range(draws), min(4, draws)))
    return sorted(chosen)


def _check_sample(store: Path, sample: list[int], years: range) -> list[str]:
    """Compare the stored files of ``sample`` with the same draws computed in this process."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rareflow.runs.ensemble.driver import ensemble_spec
    from rareflow.runs.ensemble.worker import DrawFailure, run_batch
    from rareflow.runs.runner import scenario_world
    from rareflow.scenario import load_scenario
    from rareflow.store import RunStore
    from rareflow.store.files import variable_file

    scenario = load_scenario(SCENARIO)
    world = scenario_world(scenario)
    with RunStore(store, read_only=True) as opened:
        run = opened.list_runs()[0]
    spec = ensemble_spec(run.run_key, run.run_id, scenario, world, tuple(years), SEED)
    problems = []
    for outcome in run_batch(spec, sample):
        if isinstance(outcome, DrawFailure):
            problems.append(f"reference draw {outcome.draw} failed: {outcome.error[-200:]}")
            continue
        for name, blob in outcome.blobs.items():
            path = variable_file(store, run.run_id, outcome.draw, name)
            if not path.is_file():
                problems.append(f"draw {outcome.draw}: {name} is not stored")
                continue
            stored, computed = pq.read_table(path), pq.read_table(pa.BufferReader(blob))
            if not stored.to_pandas().equals(computed.to_pandas()):  # NaN equals NaN here
                problems.append(f"draw {outcome.draw}: {name} differs from an uninterrupted run")
    return problems


def cli_peak_memory(draws: int, years: range) -> tuple[float, float]:
    """(peak MiB of the process tree, seconds) of an uninterrupted ``rareflow ensemble``."""
    with tempfile.TemporaryDirectory() as folder:
        peaks: list[float] = []
        segment = run_segment(Path(folder) / "store", draws, years, None, peaks)
        if segment.returncode != 0:
            raise RuntimeError(f"rareflow ensemble failed: {segment.stderr[-500:]}")
    return max(peaks), segment.seconds


# -- the targets --------------------------------------------------------------------------------

def main(full: bool = False, full_draws: int = FULL_DRAWS) -> list[Target]:
    header(f"ensembles: {SCENARIO!r}, {WORKERS} workers")
    rate, how = throughput()
    targets = [Target("ensemble_draws_per_second_2_workers", rate, TARGET_RATE, "draws/s",
                      higher_is_better=True, note=how)]
    draws = full_draws if full else SAMPLE_DRAWS
    stops = FULL_STOPS if full else SAMPLE_STOPS
    print(f"rareflow ensemble, {draws} draws x {len(YEARS)} years, stopped with SIGINT "
          f"{stops}x at random points and resumed:")
    run = stop_resume(draws, stops)
    if full:
        seconds, note = run.seconds, f"measured: {draws} draws, {stops} stops, time summed"
    else:
        seconds, detail = run.projected(FULL_DRAWS)
        note = f"projected from {draws} draws"
        print(f"projected {FULL_DRAWS} draws: {seconds:.0f} s ({detail})")
    print(f"all starts together: {run.seconds:.1f} s; peak memory {run.peak_mib:.0f} MiB; "
          f"compared draws {run.sample}")
    for problem in run.problems:
        print(f"  PROBLEM: {problem}")
    targets.append(Target(f"ensemble_{FULL_DRAWS}_draws_seconds", seconds, TARGET_SECONDS, "s",
                          note=note))
    targets.append(Target("ensemble_stop_resume", len(run.problems), 0, "problems",
                          at_most=True,
                          note=f"{draws} draws, stopped {stops}x with SIGINT, {len(run.sample)} "
                               "draws compared with an uninterrupted run"))
    if full:
        smaller = max(1, draws * FULL_MEMORY_REFERENCE // FULL_DRAWS)  # 1,000 for 10,000
        reference, seconds_ref = cli_peak_memory(smaller, YEARS)
        print(f"peak memory, {smaller} draws x {len(YEARS)} years uninterrupted: "
              f"{reference:.0f} MiB ({seconds_ref:.0f} s)")
        ratio = run.peak_mib / reference
        memory_note = (f"measured: {draws} draws (stopped and resumed) vs {smaller} "
                       f"uninterrupted, x {len(YEARS)} years")
    else:
        peaks = {}
        for n in MEMORY_DRAWS:
            peaks[n], elapsed = cli_peak_memory(n, MEMORY_YEARS)
            print(f"peak memory, {n} draws x {len(MEMORY_YEARS)} years uninterrupted: "
                  f"{peaks[n]:.0f} MiB ({elapsed:.1f} s)")
        small, large = MEMORY_DRAWS
        ratio = peaks[large] / peaks[small]
        memory_note = f"scaled down: {large} vs {small} draws x {len(MEMORY_YEARS)} years"
    targets.append(Target(f"ensemble_peak_memory_{FULL_DRAWS}_vs_{FULL_MEMORY_REFERENCE}",
                          ratio, TARGET_MEMORY_RATIO, "x", at_most=True, note=memory_note))
    return targets


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help=f"run the {FULL_DRAWS:,}-draw ensemble for real (≈ 1 h)")
    parser.add_argument("--full-draws", type=int, default=FULL_DRAWS,
                        help="draws of the --full run (to try it on fewer)")
    arguments = parser.parse_args()
    for target in main(full=arguments.full, full_draws=arguments.full_draws):
        print(target.line())
