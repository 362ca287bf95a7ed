"""What runs on an ensemble worker: one built market per worker, re-solved for each draw.

A Dask task is a *batch* of draws, so that Dask's cost per task stays small next to the draws'.
The first batch a worker process gets builds the scenario's policy
program and market from the world after the scenario's deterministic overrides; later draws
compile their own drawn program, adopt the built rows and columns
(:meth:`~rareflow.policy.program.ScenarioProgram.adopt`) and re-solve the same HiGHS
model.

Warm starts without order dependence: a draw's first year would otherwise be a cold solve
(twice with the policy probe). When a worker builds its model it
runs the undrawn scenario once from scratch and keeps each year's basis; draws start from those
(:class:`~rareflow.engine.warmstart.ReferenceBases`), the probe from the first year's. The
reference run is the same on every worker (same LP, same start, deterministic solver) and the
choice of start depends only on the draw's own solves, so a draw's result does not depend on
which worker ran it or which draws ran before: a resumed ensemble ends with the same numbers.

A worker shares nothing with the driver but the scheduler. The world travels with the task (as
JSON, parsed once per worker and ensemble), and so does the scenario; before it runs anything the
worker checks that its rareflow code and its reading of the world are the driver's
(:mod:`rareflow.runs.ensemble.versions`). It encodes each draw into its Parquet files in memory
and returns them (:class:`~rareflow.store.staging.DrawFiles`), or, given a results URL, writes
them there and returns their manifest (:class:`~rareflow.store.remote.RemoteDraw`); the driver
writes them into its run store and records them, so workers never need to see the store.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import xarray as xr

from rareflow.data.loader import load_world
from rareflow.engine.diagnostics import InfeasibleYearError
from rareflow.engine.market import MarketModel
from rareflow.engine.simulate import build_market, simulate
from rareflow.engine.warmstart import BasisRecorder, ReferenceBases
from rareflow.model.world import DEFAULT_WORLD, World
from rareflow.policy.program import (
    ScenarioProgram,
    apply_overrides,
    compile_policies,
)
from rareflow.runs.ensemble.sampling import apply_draw, draw_values
from rareflow.runs.ensemble.series import USED_VARIABLES, key_series
from rareflow.runs.ensemble.versions import check_code_version, check_data_version, code_version
from rareflow.runs.infeasible import InfeasibleScenarioError
from rareflow.scenario.scenario import Scenario
from rareflow.store.remote import RemoteDraw, ResultsLocation
from rareflow.store.staging import DrawFiles, encode_draw_files


@dataclass(frozen=True)
class EnsembleSpec:
    """Everything a worker needs to run draws of one ensemble (picklable, no paths needed)."""

    run_key: str
    run_id: str
    scenario: Scenario
    #: The driver's data overrides folder: read only when ``world_json`` is empty.
    data_dir: str | None
    data_version: str
    years: tuple[int, ...]
    seed: int
    #: The world as JSON (``World.model_dump_json``), so that workers need no data files.
    world_json: str = ""
    #: The world (vintage) read from the package when ``world_json`` is empty.
    world: str = DEFAULT_WORLD
    #: The code version of the process that made the spec (the driver).
    code_version: str = field(default_factory=code_version)
    #: Where workers write each draw's files (an fsspec URL that the driver reads too), or ""
    #: to return the files through Dask.
    results_url: str = ""
    #: The driver session's folder under ``results_url`` (see :mod:`rareflow.store.remote`).
    results_folder: str = ""


@dataclass(frozen=True)
class DrawFailure:
    """A draw that raised: its index and the error text (with the innermost frames)."""

    draw: int
    error: str


def data_version(world: World) -> str:
    """The world's name and version plus a hash of its content (edited data is new data)."""
    # the vintage's name is left out: the content says it all, and 2024 keys stay as they were
    digest = hashlib.sha256(world.model_dump_json(exclude={"vintage"}).encode()).hexdigest()[:12]
    return f"{world.provenance.name} {world.provenance.version} ({digest})"


class WorkerModel:
    """The built market of one ensemble on one worker, and the draws it runs on it."""

    def __init__(self, spec: EnsembleSpec, world: World | None = None) -> None:
        base_world = world if world is not None else _spec_world(spec)
        check_data_version(spec.data_version, data_version(base_world))
        self.spec = spec
        self.world, self.schedule, _ = apply_overrides(spec.scenario, base_world)
        self.program: ScenarioProgram = compile_policies(spec.scenario, self.world,
                                                         schedule=self.schedule)
        self.market: MarketModel = build_market(self.program.world, self.program)
        self.starts, self.probe_basis = self._reference_bases()
        self.market.start_policy = self.starts

    def _reference_bases(self) -> tuple[ReferenceBases, highspy.HighsBasis | None]:
        """Bases of the undrawn scenario's years, solved from scratch (see module doc)."""
        recorder = BasisRecorder()
        self.market.start_policy = recorder
        simulate(self.program.world, self.spec.years, schedule=self.schedule,
                 policy=self.program, model=self.market)
        return ReferenceBases(recorder.bases), self.program.probe_basis()

    def run_draw(self, index: int) -> xr.Dataset:
        """Simulate draw ``index`` on the built market, with its key series."""
        result = self.simulate_draw(index)
        return result.merge(key_series(result, self.world))

    def simulate_draw(self, index: int) -> xr.Dataset:
        """Simulate draw ``index`` on the built market (without key series)."""
        spec = self.spec
        values = draw_values(spec.scenario.uncertainty, self.world, spec.seed, index)
        draw = apply_draw(spec.scenario, self.world, self.schedule, values, index)
        program = compile_policies(draw.scenario, draw.world, schedule=draw.schedule)
        program.adopt(self.program)
        self.starts.begin_draw()
        program.restart_probe(self.probe_basis)
        result = simulate(program.world, spec.years, schedule=draw.schedule, policy=program,
                          model=self.market, attrs={"scenario": spec.scenario.name})
        result.attrs.update(seed=spec.seed, draw=index,
                            draw_values=json.dumps(values, sort_keys=True))
        return result

    def run_draws(self, indices: list[int]) -> dict[int, xr.Dataset | DrawFailure]:
        """Simulate several draws, then add their key series in one vectorised pass."""
        outcomes: dict[int, xr.Dataset | DrawFailure] = {}
        for index in indices:
            try:
                outcomes[index] = self.simulate_draw(index)
            except InfeasibleYearError as exc:  # recorded in the user's terms
                explained = InfeasibleScenarioError.explain(exc, self.spec.scenario, self.world)
                outcomes[index] = DrawFailure(index, f"InfeasibleScenarioError: {explained}")
            except Exception as exc:  # a draw's failure must not stop the batch
                outcomes[index] = _failure(index, exc)
        done = [i for i in indices if isinstance(outcomes[i], xr.Dataset)]
        if not done:
            return outcomes
        parts: list[xr.Dataset] = []
        for index in done:
            result = outcomes[index]
            assert isinstance(result, xr.Dataset)
            parts.append(result[list(USED_VARIABLES)])
        series = key_series(xr.concat(parts, dim="draw"), self.world)
        for position, index in enumerate(done):
            result = outcomes[index]
            assert isinstance(result, xr.Dataset)
            outcomes[index] = result.merge(series.isel(draw=position))
        return outcomes


def _spec_world(spec: EnsembleSpec) -> World:
    """The world the spec carries, else the one its data folder (or the package) holds."""
    if spec.world_json:
        return World.model_validate_json(spec.world_json)
    return load_world(Path(spec.data_dir) if spec.data_dir else None, vintage=spec.world)


def _failure(index: int, exc: BaseException) -> DrawFailure:
    frames = traceback.format_exception(exc, limit=-3)
    return DrawFailure(index, "".join(frames).strip())


class _Models(threading.local):
    """Built models per thread (a HiGHS model must not be shared by threads)."""

    def __init__(self) -> None:
        self.by_key: dict[str, WorkerModel] = {}


_MODELS = _Models()


def worker_model(spec: EnsembleSpec) -> WorkerModel:
    """The calling thread's built model for ``spec`` (built on first use, then reused)."""
    model = _MODELS.by_key.get(spec.run_key)
    if model is None:
        _MODELS.by_key.clear()  # one ensemble at a time per thread: free the previous market
        model = _MODELS.by_key[spec.run_key] = WorkerModel(spec)
    return model


def run_batch(spec: EnsembleSpec,
              draws: list[int]) -> list[DrawFiles | RemoteDraw | DrawFailure]:
    """Run ``draws`` and return their encoded files; a failing draw is reported, the others go on.

    With a ``results_url`` in the spec, each draw's files are written there instead and only
    their manifest (:class:`~rareflow.store.remote.RemoteDraw`) is returned. Raises
    :class:`~rareflow.runs.ensemble.versions.VersionMismatchError` before running anything if
    this worker's code or its reading of the world differs from the driver's.
    """
    check_code_version(spec.code_version)
    location = ResultsLocation(spec.results_url) if spec.results_url else None
    model = worker_model(spec)
    encoded: list[DrawFiles | RemoteDraw | DrawFailure] = []
    for index, outcome in model.run_draws(draws).items():
        if isinstance(outcome, DrawFailure):
            encoded.append(outcome)
            continue
        try:
            drawn = encode_draw_files(spec.run_id, index, outcome)
            encoded.append(drawn if location is None
                           else location.put_draw(spec.results_folder, drawn))
        except Exception as exc:
            encoded.append(_failure(index, exc))
    release_freed_memory()
    return encoded


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None
    return trim


def release_freed_memory() -> None:
    """Hand the heap memory freed by a batch back to the operating system (glibc only).

    Local workers run with glibc's adaptive trim threshold (see the driver's ``_client``): freed
    memory is kept for the next draw's arrays, which is fast, but over hundreds of batches the
    kept fragments add up. One ``malloc_trim`` per batch costs milliseconds. Measured on 1,500
    two-year draws on 2 workers (batches of 25): without it each worker's memory rose steadily,
    from 329 to 368 MiB; with it, it rose and fell back, ending at 309–320 MiB (peaks 330–343).
    Elsewhere than glibc this does nothing.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
