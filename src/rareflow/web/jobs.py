"""Running scenarios for the dashboard: in worker processes, a few at a time.

A run is CPU-bound (a linear programme per year plus the metrics), so it goes to a process pool
and the server's event loop stays free to answer other requests. At most ``max_active`` runs
are in flight; one more is refused with :class:`Busy` (the API answers 429) rather than queued,
so a burst of clicks cannot pile up work.

A run started as a *job* (:meth:`RunPool.start`) reports each finished year and can be
cancelled: the worker checks a shared flag after every year and stops, and a run cancelled
while it was being stored is deleted again, so a cancel never leaves half a run in the store.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import secrets
import signal
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

from rareflow.data.loader import load_world
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.runs.infeasible import InfeasibleScenarioError
from rareflow.runs.runner import run_parsed_scenario
from rareflow.scenario.scenario import Scenario
from rareflow.store import RunStore
from rareflow.web.catalogue import Catalogue
from rareflow.web.names import Wording
from rareflow.web.views import result_view, run_summary

logger = logging.getLogger(__name__)


class Busy(RuntimeError):
    """Every run slot is taken."""


class RunFailed(RuntimeError):
    """A run stopped with an error (the message says which)."""


class RunRefused(RuntimeError):
    """The scenario cannot be run as asked (years out of range, a year with no solution)."""


class RunCancelled(RuntimeError):
    """A job was cancelled before its run was finished and stored."""


class UnknownJob(LookupError):
    """No job with this id (never started, or forgotten long after it ended)."""


@cache
def shared_world() -> World:
    """The bundled world, loaded once per process."""
    return load_world(None)


@cache
def shared_wording() -> Wording:
    """Names for the ids of the bundled world and scenarios, built once per process."""
    return Catalogue.load(shared_world()).wording()


def execute_run(
    scenario: Scenario, years: list[int], store_dir: str, params: dict[str, Any],
    shared: MutableMapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Simulate ``scenario``, store it and return its dashboard view (runs in a worker).

    With ``shared`` (a job's manager dict) each finished year is counted in ``done`` and
    ``year``, and a true ``cancel`` stops the run with :class:`RunCancelled`, storing nothing.
    """
    world = shared_world()

    def progress(year: int) -> None:
        if shared is None:
            return
        shared["done"] = int(shared.get("done", 0)) + 1
        shared["year"] = year
        if shared.get("cancel"):
            raise RunCancelled("cancelled")

    if shared is not None and shared.get("cancel"):
        raise RunCancelled("cancelled")
    outcome = run_parsed_scenario(
        scenario, world, years, store_dir=Path(store_dir), params=params, progress=progress
    )
    assert outcome.run_id is not None
    with RunStore(store_dir) as store:
        if shared is not None and shared.get("cancel"):  # cancelled while it was being stored
            store.delete_run(outcome.run_id)
            raise RunCancelled("cancelled")
        info = store.get_run(outcome.run_id)
    wording = shared_wording()
    return result_view(run_summary(info, wording), outcome.result, world, wording=wording)


@dataclass
class Job:
    """A run in the background: its progress, and its view or error once it ends."""

    job_id: str
    scenario: str
    total_years: int
    shared: MutableMapping[str, Any]
    state: str = "running"  # running, cancelling, done, failed, cancelled
    view: dict[str, Any] | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """The job as the API shows it (the run's view once it is done)."""
        try:
            done, year = int(self.shared.get("done", 0)), self.shared.get("year")
        except (OSError, EOFError, BrokenPipeError):  # the manager is gone (shutting down)
            done, year = 0, None
        if self.state == "done":
            done = self.total_years
        return {
            "job_id": self.job_id, "scenario": self.scenario, "state": self.state,
            "done_years": done, "total_years": self.total_years, "last_year": year,
            "view": self.view, "error": self.error,
        }


def _quiet_worker() -> None:
    """Leave Ctrl+C to the server: it shuts the pool down itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class RunPool:
    """Worker processes for runs, with a cap on runs in flight."""

    def __init__(self, store_dir: Path, max_active: int = 2) -> None:
        if max_active < 1:
            raise ValueError("max_active must be at least 1")
        self.store_dir = store_dir
        self.max_active = max_active
        self.active = 0
        self._executor: ProcessPoolExecutor | None = None
        self._manager: SyncManager | None = None
        self.jobs: dict[str, Job] = {}

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server holds threads and DuckDB handles a fork would copy.
            self._executor = ProcessPoolExecutor(
                max_workers=self.max_active,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_quiet_worker,
            )
        return self._executor

    def _shared(self) -> MutableMapping[str, Any]:
        if self._manager is None:
            self._manager = multiprocessing.get_context("spawn").Manager()
        shared: MutableMapping[str, Any] = self._manager.dict({"done": 0, "year": None,
                                                               "cancel": False})
        return shared

    def _claim(self) -> None:
        if self.active >= self.max_active:
            raise Busy(
                f"{self.active} run(s) already in progress (the limit is {self.max_active}); "
                "try again when one finishes"
            )
        self.active += 1

    async def run(
        self, scenario: Scenario, years: list[int], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Run ``scenario`` in a worker and return its view; :class:`Busy` when all slots are taken.

        Slots are counted on the event loop's thread, so no lock is needed.
        """
        self._claim()
        try:
            return await self._execute(scenario, years, params, None)
        finally:
            self.active -= 1

    def start(self, scenario: Scenario, years: list[int], params: dict[str, Any]) -> Job:
        """Start ``scenario`` as a background job; :class:`Busy` when all slots are taken.

        Call it on the event loop: the job follows its run there.
        """
        self._claim()
        try:
            job = Job(secrets.token_hex(8), scenario.name, len(years), self._shared())
        except BaseException:
            self.active -= 1
            raise
        self._forget_old_jobs()
        self.jobs[job.job_id] = job
        job.task = asyncio.get_running_loop().create_task(self._follow(job, scenario, years,
                                                                       params))
        return job

    async def _follow(
        self, job: Job, scenario: Scenario, years: list[int], params: dict[str, Any]
    ) -> None:
        try:
            job.view = await self._execute(scenario, years, params, job.shared)
            job.state = "done"
        except RunCancelled:
            job.state = "cancelled"
        except (RunRefused, RunFailed) as exc:
            job.state, job.error = "failed", str(exc)
        finally:
            self.active -= 1

    def job(self, job_id: str) -> Job:
        """The job ``job_id``; :class:`UnknownJob` otherwise."""
        try:
            return self.jobs[job_id]
        except KeyError:
            raise UnknownJob(f"no job '{job_id}'") from None

    def cancel(self, job_id: str) -> Job:
        """Ask job ``job_id`` to stop; a job that already ended is left as it is."""
        job = self.job(job_id)
        if job.state == "running":
            job.shared["cancel"] = True
            job.state = "cancelling"
        return job

    def _forget_old_jobs(self, keep: int = 50) -> None:
        ended = [key for key, job in self.jobs.items() if job.state not in ("running",
                                                                            "cancelling")]
        for key in ended[: max(0, len(ended) - keep)]:
            del self.jobs[key]

    async def _execute(
        self, scenario: Scenario, years: list[int], params: dict[str, Any],
        shared: MutableMapping[str, Any] | None,
    ) -> dict[str, Any]:
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool(), execute_run, scenario, years, str(self.store_dir), params, shared
            )
        except RunCancelled:
            raise
        except BrokenProcessPool:
            self.shutdown()
            raise RunFailed("the worker process running the scenario died") from None
        except (InfeasibleScenarioError, DataError) as exc:
            raise RunRefused(str(exc)) from None
        except Exception as exc:
            logger.exception("run of scenario '%s' failed", scenario.name)
            raise RunFailed(f"the run of '{scenario.name}' failed: {exc}") from exc

    def shutdown(self) -> None:
        """Stop the worker processes (waiting for runs in progress)."""
        for job in self.jobs.values():
            if job.state == "running":
                job.shared["cancel"] = True
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._manager is not None:
            self._manager.shutdown()
            self._manager = None
