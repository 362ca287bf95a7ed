"""One ensemble draw: sample a scenario's ``uncertainty`` and apply it to scenario, world, schedule.

A draw is a function of the ensemble seed and the draw index only: every random number comes
from ``numpy.random.SeedSequence([seed, index, ...])``, never from a generator shared between
draws, so draws can run in any order, on any worker, and resume after an interruption.

* Scenario-level entries (demand growth per sector, policy timing, collection rates, recovery
  yield) are drawn once per draw from ``SeedSequence([seed, index])``.
* Project start delays and ramp-up factors are drawn **per facility** (a ``by_status`` entry is
  a distribution each facility of that status draws from independently) from
  ``SeedSequence([seed, index, crc32("<section>:<facility id>")])``, so adding a facility to the
  world does not change the draws of the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rareflow.engine.schedule import Schedule
from rareflow.model.world import World
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.uncertainty import FacilityDistributions, Uncertainty

#: Draw names of the per-facility sections (their entries are drawn per facility instead).
FACILITY_SECTIONS: tuple[str, ...] = ("start_delay_years", "ramp_up_factor")


@dataclass(frozen=True)
class Draw:
    """The inputs of one ensemble member: drawn values and the scenario/world/schedule they make."""

    index: int
    scenario: Scenario
    world: World
    schedule: Schedule
    values: dict[str, float] = field(default_factory=dict)


def draw_values(uncertainty: Uncertainty, world: World, seed: int, index: int) -> dict[str, float]:
    """Every drawn number of draw ``index`` under ``seed``, by name.

    Scenario-level names are those of :meth:`Uncertainty.distributions`; per-facility draws are
    named ``start_delay_years.<facility>`` and ``ramp_up_factor.<facility>`` (whole years for
    delays, rounded to the nearest year because capacity schedules move in whole years).
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and draw index must be >= 0, got {seed} and {index}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    values = {
        name: dist.sample(rng)
        for name, dist in uncertainty.distributions().items()
        if name.split(".", 1)[0] not in FACILITY_SECTIONS
    }
    for section in FACILITY_SECTIONS:
        group: FacilityDistributions = getattr(uncertainty, section)
        for facility in sorted(world.facilities, key=lambda f: f.id):
            dist = group.for_facility(facility.id, facility.status)
            if dist is None:
                continue
            stream = zlib.crc32(f"{section}:{facility.id}".encode())
            value = dist.sample(np.random.default_rng(np.random.SeedSequence([seed, index,
                                                                              stream])))
            if section == "start_delay_years":
                value = float(round(value))
            values[f"{section}.{facility.id}"] = value
    return values


def apply_draw(
    scenario: Scenario,
    world: World,
    schedule: Schedule,
    values: dict[str, float],
    index: int = 0,
) -> Draw:
    """The scenario, world and schedule of one draw (``world``/``schedule`` after overrides).

    * delays add to the schedule's delays; ramp-up factors stretch facilities' ramp-up;
    * ``demand_growth.<sector>.rate`` replaces every growth step of the sector, ``.delta`` is
      added to each step;
    * ``recycling.collection_rate.<sector>`` replaces the sector's collection rate;
    * ``recycling.recovery_yield`` scales every sector's collection rate by
      ``yield / nominal`` (capped at 1), where ``nominal`` is the mean recovery of the world's
      recycling plants: the recovered tonnage changes as if the recyclers' yield changed, while
      the market matrix (which holds each plant's own recovery) stays the one every draw shares;
    * policy timing goes through :meth:`Scenario.with_timing`.
    """
    delays = dict(schedule.delays)
    ramp = dict(schedule.ramp_factor)
    for name, value in values.items():
        section, _, facility = name.partition(".")
        if section == "start_delay_years":
            delays[facility] = delays.get(facility, 0) + int(value)
        elif section == "ramp_up_factor":
            ramp[facility] = value
    drawn_schedule = replace(schedule, delays=delays, ramp_factor=ramp)
    return Draw(index, scenario.with_timing(values), _drawn_world(world, values), drawn_schedule,
                dict(values))


def _drawn_world(world: World, values: dict[str, float]) -> World:
    recyclers = [f.recovery for f in world.facilities if f.stage == "recycling"]
    nominal = float(np.mean(recyclers)) if recyclers else 1.0
    yield_scale = values.get("recycling.recovery_yield", nominal) / nominal if nominal else 1.0
    sectors = []
    for sector in world.sectors:
        update: dict[str, Any] = {}
        rate = values.get(f"demand_growth.{sector.id}.rate")
        delta = values.get(f"demand_growth.{sector.id}.delta")
        steps = sector.growth or {world.provenance.base_year: 0.0}
        if rate is not None:
            update["growth"] = dict.fromkeys(steps, rate)
        elif delta is not None:
            update["growth"] = {year: step + delta for year, step in steps.items()}
        collection = values.get(f"recycling.collection_rate.{sector.id}", sector.collection_rate)
        collection = min(1.0, collection * yield_scale)
        if collection != sector.collection_rate:
            update["collection_rate"] = collection
        sectors.append(sector.model_copy(update=update) if update else sector)
    return world.model_copy(update={"sectors": tuple(sectors)})
