"""Run an ensemble on Dask, streaming draws to the run store and resuming interrupted runs.

:func:`run_ensemble` finds the run with the same inputs in the store (scenario text, data and
code versions, seed, number of draws, years) or creates it, then submits only the draws not yet
done, in batches, to a ``distributed`` cluster: a :class:`distributed.LocalCluster` with one
single-threaded worker process per core by default, or an existing scheduler.

Workers share nothing with the driver but the scheduler: the world (as JSON) and the scenario
travel with the tasks, and each batch comes back through Dask as its draws' Parquet files in
memory (:class:`~rareflow.store.staging.DrawFiles`, zstd-compressed). The driver alone writes
the run store: as each batch finishes, its draws are written and recorded as done in one
transaction (or as failed with their error), and the batch is released, so memory stays flat
in the number of draws and a killed ensemble, started again with the same arguments, completes
only the missing draws. A worker whose rareflow code or world data differs from the driver's is
refused (:class:`~rareflow.runs.ensemble.versions.VersionMismatchError`): before the run is
created for the workers already connected, and at the start of every task for any worker.

An ensemble asked for more draws than a stored one with the same inputs (scenario text, data
and code versions, seed, years) extends that run: ``--draws 30`` after ``--draws 20`` runs only
draws 20-29 into the same run, whose first 20 draws are already those of a 30-draw ensemble.

With ``results_url`` (an fsspec URL that the driver and every worker reach: a shared mount,
``s3://``, ``gs://``) workers write each draw's files there and return only their manifest;
the driver fetches and checks them (sizes and SHA-256), commits them the same way and removes
them (:mod:`rareflow.store.remote`). A URL that cannot be used, or that a worker's writes do not
reach the driver through, is refused (:class:`~rareflow.store.remote.ResultsUrlError`) before
the run is created. Files a killed driver left there are removed by the next driver of the run,
and their draws are run again.

On resume, done draws whose files are damaged (missing, truncated, unreadable footer: the cheap
check of :meth:`rareflow.store.RunStore.damaged_draws`) are never reused: they are marked not
done and redone. A draw is a function of the seed and its number only, so the redone draw is
identical to the lost one and the run is whole again, without redoing the other draws.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rareflow.model.world import World
from rareflow.runs.ensemble.versions import VersionMismatchError, code_version
from rareflow.runs.ensemble.worker import DrawFailure, EnsembleSpec, data_version, run_batch
from rareflow.runs.runner import scenario_world
from rareflow.scenario import Scenario, load_scenario, validate_against_world
from rareflow.store import DEFAULT_ROOT, DrawFiles, RunInfo, RunStore
from rareflow.store.remote import FetchFailure, RemoteDraw, ResultsLocation, ResultsUrlError
from rareflow.store.runs import run_key
from rareflow.store.sessions import session_names
from rareflow.version import __version__

#: Lower bound on draws per task by default: a batch's key series cost far less a draw than a
#: single draw's.
MIN_BATCH = 3
#: Upper bound on draws per Dask task (more tasks than workers keeps them all busy to the end).
MAX_BATCH = 25
#: Without a batch size, each task takes about 1/(workers × TASKS_PER_WORKER) of the draws
#: still left, so tasks shrink towards the end and the workers finish together.
TASKS_PER_WORKER = 4
#: Dask setting of the environment its local workers start with (see ``_client``).
TRIM_THRESHOLD = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
#: Seconds to wait for an existing Dask scheduler to answer before giving up.
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class EnsembleProgress:
    """Counts reported after each finished batch."""

    done: int
    failed: int
    total: int
    resumed: int


@dataclass(frozen=True)
class EnsembleOutcome:
    """A finished (or partly failed) ensemble run."""

    run: RunInfo
    ran: int
    resumed: int
    failures: dict[int, str]
    #: Done draws whose files were damaged, redone by this call.
    redone_damaged: tuple[int, ...] = ()
    #: The run's number of draws before this call extended it (None: not extended).
    extended_from: int | None = None

    @property
    def run_id(self) -> str:
        """Id of the run in the store."""
        return self.run.run_id


def run_ensemble(
    scenario: str | Path | Scenario,
    *,
    draws: int,
    seed: int = 0,
    years: Iterable[int] | None = None,
    data_dir: Path | None = None,
    store_dir: Path | str = DEFAULT_ROOT,
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    durable: bool = True,
    progress: Callable[[EnsembleProgress], None] | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    world: str | None = None,
    results_url: str | None = None,
) -> EnsembleOutcome:
    """Run (or resume) ``draws`` draws of ``scenario`` and store them; return the outcome.

    Draw ``i`` is a function of ``seed`` and ``i`` only. ``scheduler`` is the address of an
    existing Dask scheduler, whose workers need the driver's rareflow version installed and
    nothing else (no data files, no access to the store); otherwise a local cluster with
    ``workers`` processes (default: the number of cores) runs the draws. Failed draws are
    recorded with their error and tried again on the next call. A ``scheduler`` that does not
    answer within ``connect_timeout`` seconds raises :class:`SchedulerUnreachableError`, and a
    worker with other rareflow code or data :class:`VersionMismatchError`, before anything is
    stored (a worker that joins later and differs makes the call raise the latter).
    ``world`` names the world when the scenario names none (a conflict with the scenario's is
    refused). ``results_url`` (e.g. ``file:///mnt/shared/rareflow-staging``,
    ``s3://bucket.example/rareflow-staging``) makes workers write each draw's files there
    instead of returning them through Dask; the driver fetches, checks, stores and removes
    them. A URL that cannot be used raises :class:`~rareflow.store.remote.ResultsUrlError`
    before anything is stored.
    """
    if draws < 1:
        raise ValueError(f"an ensemble needs at least one draw, got {draws}")
    parsed = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    loaded = scenario_world(parsed, world, data_dir)
    if not isinstance(scenario, Scenario):
        validate_against_world(parsed, loaded)
    year_list = tuple(parsed.run_years(loaded, years))
    location = _results_location(results_url)
    store = RunStore(store_dir, durable=durable)
    try:
        args = _run_args(parsed, data_version(loaded), seed, draws, year_list)
        existing = store.find_run(**args)  # type: ignore[arg-type]
        # Same inputs with fewer draws: extend that run and run only the draws it lacks.
        shorter = None if existing is not None else _shorter_run(store, args)
        stored = existing or shorter
        extended_from = shorter.n_draws if shorter is not None else None
        damaged: list[int] = []
        if stored is not None:
            damaged = sorted({item.draw for item in store.damaged_draws(stored.run_id)})
            store.forget_draws(stored.run_id, damaged)
        done = store.completed_draws(stored.run_id) if stored is not None else set()
        todo = [d for d in range(draws) if d not in done]
        failures: dict[int, str] = {}
        if not todo:
            assert existing is not None
            if location is not None:
                location.clean_run(existing.run_id, lambda: session_names(store.root))
            return EnsembleOutcome(existing, 0, len(done), failures, tuple(damaged))
        # Connect before creating (or extending) the run, so an unreachable scheduler leaves
        # the store as it was.
        with _client(scheduler, workers, connect_timeout) as client:
            _check_worker_code(client)
            if location is not None:
                _check_workers_reach(client, location)
            if shorter is not None:
                run = store.extend_run(shorter.run_id, draws)
            else:
                run = existing or store.create_run(**args)  # type: ignore[arg-type]
            spec = ensemble_spec(run.run_key, run.run_id, parsed, loaded, year_list, seed)
            session = store.staging_dir.name
            if location is not None:
                # what killed drivers of this run left there: their draws run again
                location.clean_run(run.run_id, lambda: session_names(store.root))
                spec = replace(spec, results_url=location.url,
                               results_folder=location.session_folder(run.run_id, session))
            n_workers = max(1, len(client.scheduler_info()["workers"]))
            batches = _batches(todo, n_workers, batch_size)
            counts = [len(done), 0]
            try:
                for outcomes in _run_batches(client, spec, batches):
                    remote = [o for o in outcomes if isinstance(o, RemoteDraw)]
                    if location is not None:
                        outcomes = _fetched(location, outcomes)
                    with _interrupt_after():
                        _record(store, run.run_id, outcomes, failures)
                    if location is not None:
                        location.remove_draws(remote)  # committed (or refused): not needed
                    counts[0] += sum(isinstance(o, DrawFiles) for o in outcomes)
                    counts[1] = len(failures)
                    del outcomes  # stored: let the batch's files go before the next one arrives
                    if progress is not None:
                        progress(EnsembleProgress(counts[0], counts[1], draws, len(done)))
            finally:
                if location is not None:
                    location.remove_session(run.run_id, session)
        return EnsembleOutcome(store.get_run(run.run_id), len(todo), len(done), failures,
                               tuple(damaged), extended_from)
    finally:
        store.close()


def ensemble_spec(run_key: str, run_id: str, scenario: Scenario, world: World,
                  years: tuple[int, ...], seed: int) -> EnsembleSpec:
    """What every task of an ensemble run carries: scenario, world, versions, seed, years."""
    return EnsembleSpec(run_key, run_id, scenario, None, data_version(world), years, seed,
                        world_json=world.model_dump_json(), world=world.vintage,
                        code_version=code_version())


def _run_args(scenario: Scenario, data_version: str, seed: int, draws: int,
              years: tuple[int, ...]) -> dict[str, object]:
    """What identifies the ensemble's run in the store (found again to resume it)."""
    return {
        "kind": "ensemble",
        "scenario_name": scenario.name,
        "scenario_text": scenario.to_yaml(),
        "data_version": data_version,
        "code_version": __version__,
        "seed": seed,
        "n_draws": draws,
        "params": {"years": [years[0], years[-1]], "n_years": len(years)},
    }


def _shorter_run(store: RunStore, args: dict[str, object]) -> RunInfo | None:
    """The stored ensemble with the same inputs as ``args`` but fewer draws (most draws first).

    A run matches when its key is the key of ``args`` with the run's own number of draws:
    same scenario text, data and code versions, seed and years. Its draws are the first draws
    of the longer ensemble, since draw ``i`` depends only on the seed and ``i``.
    """
    wanted = int(args["n_draws"])  # type: ignore[call-overload]
    fields = {name: value for name, value in args.items()
              if name not in {"n_draws", "scenario_name"}}
    candidates = [
        run for run in store.list_runs()
        if run.kind == "ensemble" and run.n_draws < wanted
        and run.run_key == run_key(n_draws=run.n_draws, **fields)  # type: ignore[arg-type]
    ]
    return max(candidates, key=lambda run: (run.n_draws, run.created_at), default=None)


def _batches(todo: list[int], n_workers: int, size: int | None) -> list[list[int]]:
    """The draws of each task: ``size`` each, or by default shrinking towards the end.

    By default a task takes ``remaining / (n_workers × TASKS_PER_WORKER)`` draws (at least
    MIN_BATCH, at most MAX_BATCH): large tasks while many draws are left keep Dask's and the batch
    key series' overhead low, small ones at the end leave no worker idle while another
    finishes a long last task.
    """
    if size is not None:
        return [todo[i:i + size] for i in range(0, len(todo), size)]
    batches: list[list[int]] = []
    start = 0
    while start < len(todo):
        left = len(todo) - start
        take = max(MIN_BATCH, min(MAX_BATCH, math.ceil(left / (n_workers * TASKS_PER_WORKER))))
        batches.append(todo[start:start + take])
        start += take
    return batches


def _spec_value(spec: EnsembleSpec) -> EnsembleSpec:
    """The spec itself, as a task's result (see :func:`_run_batches`)."""
    return spec


def _run_batches(client: Any, spec: EnsembleSpec, batches: list[list[int]]
                 ) -> Iterator[list[DrawFiles | RemoteDraw | DrawFailure]]:
    """Submit every batch and yield each one's outcomes as it finishes (any order).

    The spec (with the world, a few hundred kB) goes to the cluster once, as the result of a
    task rather than scattered data: when the workers holding it die, the scheduler computes
    it again instead of failing every batch. Raises :class:`VersionMismatchError` (after
    cancelling the other batches) when a worker refuses the spec.
    """
    from distributed import as_completed

    spec_future = client.submit(_spec_value, spec, pure=False)
    futures = {client.submit(run_batch, spec_future, batch, pure=False): batch
               for batch in batches}
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            try:
                outcomes: list[DrawFiles | RemoteDraw | DrawFailure] = future.result()
            except VersionMismatchError:
                raise
            except Exception as exc:  # the whole task failed (e.g. its worker could not set up)
                error = f"{type(exc).__name__}: {exc}"
                outcomes = [DrawFailure(draw, error) for draw in futures[future]]
            future.release()
            yield outcomes
            del outcomes  # stored by now: no reference kept while waiting for the next batch
    finally:
        client.cancel([*futures, spec_future])


def _check_worker_code(client: Any) -> None:
    """Raise :class:`VersionMismatchError` if a connected worker runs other rareflow code."""
    own = code_version()
    try:
        versions: dict[str, str] = client.run(code_version)
    except Exception as exc:  # e.g. a worker without this module: an older rareflow
        raise VersionMismatchError("code", own, f"unknown ({type(exc).__name__}: {exc})"
                                   .replace("\n", " ")) from None
    for address, version in sorted(versions.items()):
        if version != own:
            raise VersionMismatchError("code", own, version, address)


def _results_location(url: str | None) -> ResultsLocation | None:
    """The results URL opened and checked from this process (None: results through Dask)."""
    if url is None:
        return None
    location = ResultsLocation(url)
    location.check_writable()
    return location


def _probe_on_worker(url: str, token: str) -> tuple[str, str]:
    """On a worker: write a probe file under ``url``; its path, or ("", the error)."""
    from rareflow.store.remote import write_probe

    try:
        return write_probe(url, token), ""
    except Exception as exc:
        return "", f"{type(exc).__name__}: {exc}".replace("\n", " ")


def _check_workers_reach(client: Any, location: ResultsLocation) -> None:
    """Raise :class:`ResultsUrlError` unless every connected worker's writes reach this process.

    Each worker writes a probe file under the URL and the driver reads it back: a URL that
    names a folder local to each machine (``file://`` without a shared mount, ``memory://``)
    is refused here, before any draw runs.
    """
    token = uuid.uuid4().hex
    written: dict[str, tuple[str, str]] = client.run(_probe_on_worker, location.url, token)
    try:
        for address, (path, error) in sorted(written.items()):
            if error:
                raise ResultsUrlError(f"worker {address} cannot write to results URL "
                                      f"{location.url} ({error})")
            if not location.read_probe(path, token):
                raise ResultsUrlError(
                    f"what worker {address} writes under results URL {location.url} does not "
                    "reach this process: give a URL that this process and every worker share "
                    "(a shared mount, s3://, gs://), not a folder local to each machine")
    finally:
        location.remove_probes([path for path, _ in written.values() if path])


def _fetched(location: ResultsLocation, outcomes: list[DrawFiles | RemoteDraw | DrawFailure]
             ) -> list[DrawFiles | RemoteDraw | DrawFailure]:
    """The batch with each draw written under the results URL fetched and checked."""
    fetched = iter(location.fetch([o for o in outcomes if isinstance(o, RemoteDraw)]))
    out: list[DrawFiles | RemoteDraw | DrawFailure] = []
    for outcome in outcomes:
        if isinstance(outcome, RemoteDraw):
            item = next(fetched)
            out.append(DrawFailure(item.draw, item.error) if isinstance(item, FetchFailure)
                       else item)
        else:
            out.append(outcome)
    return out


def _record(store: RunStore, run_id: str,
            outcomes: list[DrawFiles | RemoteDraw | DrawFailure],
            failures: dict[int, str]) -> None:
    store.commit_files(run_id, [o for o in outcomes if isinstance(o, DrawFiles)])
    for outcome in outcomes:
        if isinstance(outcome, DrawFailure):
            store.record_failure(run_id, outcome.draw, outcome.error)
            failures[outcome.draw] = outcome.error


@contextmanager
def _interrupt_after() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) while a batch is committed; raise it once the commit is done.

    The commit writes the batch's files with a thread pool; a KeyboardInterrupt raised in the
    main thread while it waits on that pool can leave a future's lock held, and the pool's
    threads then wait on it forever (the process hangs instead of stopping). A commit takes a
    fraction of a second, so the interrupt waits for it, and the stopped ensemble resumes from
    a store with that batch recorded. An ignored SIGINT (e.g. under ``nohup``) stays ignored.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is signal.SIG_IGN:
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
    if not received:
        return
    if callable(previous):
        previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
    else:  # SIG_DFL
        raise KeyboardInterrupt


class SchedulerUnreachableError(ConnectionError):
    """The Dask scheduler given with ``scheduler`` did not answer in time."""


@contextmanager
def _client(scheduler: str | None, workers: int | None,
            connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator[Any]:
    """A Dask client on ``scheduler``, or on a local cluster of single-threaded processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=connect_timeout)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnreachableError(
                f"cannot reach the Dask scheduler at {scheduler} within {connect_timeout:g} s "
                f"({type(exc).__name__}: {exc})".replace("\n", " ")
            ) from None
        with client:
            yield client
        return
    n_workers = workers or os.cpu_count() or 1
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, so glibc hands freed memory back
    # at once and faults it in again for a draw's many short-lived arrays, a large kernel-time
    # cost. glibc's adaptive default keeps memory flat across draws, so leave it to glibc.
    with dask.config.set({TRIM_THRESHOLD: None}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", silence_logs=50)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client
