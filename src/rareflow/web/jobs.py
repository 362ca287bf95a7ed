"""Running scenarios for the dashboard: in worker processes, a few at a time.

A run is CPU-bound (a linear programme per year plus the metrics), so it goes to a process pool
and the server's event loop stays free to answer other requests. At most ``max_active`` runs
are in flight; one more is refused with :class:`Busy` (the API answers 429) rather than queued,
so a burst of clicks cannot pile up work.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path
from typing import Any

from rareflow.data.loader import load_world
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.runs.infeasible import InfeasibleScenarioError
from rareflow.runs.runner import run_parsed_scenario
from rareflow.scenario.scenario import Scenario
from rareflow.store import RunStore
from rareflow.web.views import result_view, run_summary

logger = logging.getLogger(__name__)


class Busy(RuntimeError):
    """Every run slot is taken."""


class RunFailed(RuntimeError):
    """A run stopped with an error (the message says which)."""


class RunRefused(RuntimeError):
    """The scenario cannot be run as asked (years out of range, a year with no solution)."""


@cache
def shared_world() -> World:
    """The bundled world, loaded once per process."""
    return load_world(None)


def execute_run(
    scenario: Scenario, years: list[int], store_dir: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Simulate ``scenario``, store it and return its dashboard view (runs in a worker)."""
    world = shared_world()
    outcome = run_parsed_scenario(
        scenario, world, years, store_dir=Path(store_dir), params=params
    )
    assert outcome.run_id is not None
    with RunStore(store_dir, read_only=True) as store:
        info = store.get_run(outcome.run_id)
    return result_view(run_summary(info), outcome.result, world)


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

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server holds threads and DuckDB handles a fork would copy.
            self._executor = ProcessPoolExecutor(
                max_workers=self.max_active,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_quiet_worker,
            )
        return self._executor

    async def run(
        self, scenario: Scenario, years: list[int], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Run ``scenario`` in a worker and return its view; :class:`Busy` when all slots are taken.

        Slots are counted on the event loop's thread, so no lock is needed.
        """
        if self.active >= self.max_active:
            raise Busy(
                f"{self.active} run(s) already in progress (the limit is {self.max_active}); "
                "try again when one finishes"
            )
        self.active += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool(), execute_run, scenario, years, str(self.store_dir), params
            )
        except BrokenProcessPool:
            self.shutdown()
            raise RunFailed("the worker process running the scenario died") from None
        except (InfeasibleScenarioError, DataError) as exc:
            raise RunRefused(str(exc)) from None
        except Exception as exc:
            logger.exception("run of scenario '%s' failed", scenario.name)
            raise RunFailed(f"the run of '{scenario.name}' failed: {exc}") from exc
        finally:
            self.active -= 1

    def shutdown(self) -> None:
        """Stop the worker processes (waiting for runs in progress)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
