"""Run one scenario end to end: load world and scenario, simulate, store, summarise.

This is the orchestration behind ``rareflow run``; it keeps the CLI thin and gives Python users
one call (:func:`run_scenario`) that does what the command does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from rareflow.data.loader import load_world
from rareflow.engine.diagnostics import InfeasibleYearError
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.policy import simulate_scenario
from rareflow.runs.infeasible import InfeasibleScenarioError
from rareflow.scenario import Scenario, load_scenario, validate_against_world
from rareflow.store import RunStore
from rareflow.version import __version__


@dataclass(frozen=True)
class RunOutcome:
    """A finished single run: its result, where it was stored, and the inputs it used."""

    result: xr.Dataset
    run_id: str | None
    scenario: Scenario
    world: World


@dataclass(frozen=True)
class RunInputs:
    """A loaded, validated scenario, its world and the years it will run (nothing simulated)."""

    scenario: Scenario
    world: World
    years: list[int]


def prepare_run(
    scenario: str | Path,
    *,
    years: Iterable[int] | None = None,
    data_dir: Path | None = None,
    world: str | None = None,
) -> RunInputs:
    """Load ``scenario`` (bundled name or YAML path) and its world, and resolve its years.

    The world is the scenario's ``world``, else ``world`` (``--world``), else '2024'; a
    scenario of another world than ``world`` is refused. ``years`` defaults to the scenario's
    own range, else the world's base year and 16 years on (2024–2040). Raises before anything
    is simulated when the scenario or data is invalid or the years lie outside the world's
    range, so a caller (``rareflow run``) can validate and know the number of years first.
    """
    parsed = load_scenario(scenario)
    loaded = scenario_world(parsed, world, data_dir)
    validate_against_world(parsed, loaded, own_years=years is None)  # names, world, years
    return RunInputs(parsed, loaded, list(parsed.run_years(loaded, years)))


def scenario_world(
    scenario: Scenario, requested: str | None = None, data_dir: Path | None = None
) -> World:
    """The world ``scenario`` runs on (see :meth:`Scenario.world_name`), overlaid with ``data_dir``.

    An unknown world named by the scenario is reported at the scenario's ``world`` line.
    """
    name = scenario.world_name(requested)
    try:
        return load_world(data_dir, vintage=name)
    except DataError as error:
        if scenario.world is None or scenario.source is None or error.file is not None:
            raise
        file, line = scenario.source.locate(("world",))
        raise DataError(error.message, file=file, line=line, field="world",
                        suggestion=error.suggestion) from None


def run_scenario(
    scenario: str | Path,
    *,
    years: Iterable[int] | None = None,
    data_dir: Path | None = None,
    store_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    world: str | None = None,
) -> RunOutcome:
    """Simulate ``scenario`` (bundled name or YAML path) and store the result if asked.

    ``years`` defaults to the scenario's own range, else 2024–2040; ``world`` as for
    :func:`prepare_run`. With ``store_dir`` the result is written to the run store with its
    scenario text, data and code versions.
    """
    inputs = prepare_run(scenario, years=years, data_dir=data_dir, world=world)
    return run_parsed_scenario(inputs.scenario, inputs.world, inputs.years,
                               store_dir=store_dir, progress=progress)


def run_parsed_scenario(
    scenario: Scenario,
    world: World,
    years: Iterable[int],
    *,
    store_dir: Path | None = None,
    params: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunOutcome:
    """Simulate an already-parsed, validated ``scenario`` over ``years`` and store it if asked.

    For callers that build scenarios in code (the dashboard derives them from a bundled scenario
    and its levers). ``scenario`` must already be validated against ``world``. With
    ``store_dir`` the run is stored like :func:`run_scenario`'s; ``params`` are recorded next to
    the year range (e.g. the levers that made the scenario). Years outside the world's range,
    or a scenario that names another world, raise :class:`DataError`; a year without a
    solution raises :class:`InfeasibleScenarioError`, naming the policies and records
    involved, and stores nothing.
    """
    scenario.world_name(world.vintage)  # a scenario of another world is refused
    year_list = list(scenario.run_years(world, years))
    if store_dir is not None:
        RunStore.check_writable(store_dir)  # a refused folder is reported before simulating
    try:
        result = simulate_scenario(scenario, world, year_list, progress=progress)
    except InfeasibleYearError as error:
        raise InfeasibleScenarioError.explain(error, scenario, world) from error
    run_id = None
    if store_dir is not None:
        store = RunStore(store_dir)
        try:
            info = store.create_run(
                kind="single",
                scenario_name=scenario.name,
                scenario_text=scenario.to_yaml(),
                data_version=result.attrs["data_version"],
                code_version=__version__,
                seed=0,
                n_draws=1,
                params={**(params or {}), "years": [year_list[0], year_list[-1]]},
            )
            store.write_draw(info.run_id, 0, result)
            run_id = info.run_id
        finally:
            store.close()
    return RunOutcome(result, run_id, scenario, world)
