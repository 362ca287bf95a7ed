"""Refuse facility overrides that a world would silently ignore.

A scenario's ``overrides.facilities`` entry must change what the engine computes. Some cannot,
given the facility's data: ``nameplate_t`` on a facility whose capacity comes from yearly
``capacity_t`` anchors in every simulated year, any change to a ``closed`` facility (its capacity
is always 0), or a ``start_year`` after the facility's ``end_year``. Each is refused with the
file, line, facility and the reason, instead of being accepted and ignored.
"""

from __future__ import annotations

from rareflow.model.errors import DataError
from rareflow.model.facilities import Facility
from rareflow.model.world import World
from rareflow.scenario.diagnostics import format_path
from rareflow.scenario.overrides import FacilityOverride
from rareflow.scenario.scenario import DEFAULT_YEARS, Scenario


def check_overrides_act(scenario: Scenario, world: World) -> None:
    """Raise :class:`DataError` at the first facility override that cannot act in ``world``.

    Facilities the world lacks are left to the name check
    (:func:`~rareflow.scenario.world_check.validate_against_world`).
    """
    facilities = {facility.id: facility for facility in world.facilities}
    first_year = min(
        scenario.years.start if scenario.years is not None else DEFAULT_YEARS.start,
        world.provenance.base_year,
    )
    for facility_id, own in scenario.overrides.facilities.items():
        facility = facilities.get(facility_id)
        if facility is None:
            continue
        problem = _idle_override(scenario, facility, own, first_year)
        if problem is not None:
            field, reason = problem
            raise _error(scenario, facility_id, field, reason)


def _idle_override(
    scenario: Scenario, facility: Facility, own: FacilityOverride, first_year: int
) -> tuple[str, str] | None:
    """The field of ``own`` that cannot act on ``facility`` and why, or None."""
    changed = sorted(own.model_fields_set)
    if facility.status == "closed" and changed and not own.cancelled:
        return changed[0], "the facility is closed, so its capacity is 0 whatever the override"
    start = own.start_year if own.start_year is not None else facility.start_year
    if own.start_year is not None and facility.end_year is not None and start > facility.end_year:
        return "start_year", (
            f"start_year {start} is after the facility's end_year {facility.end_year}, "
            "so it would never produce"
        )
    if own.nameplate_t is not None and facility.capacity_t:
        first_anchor = min(facility.capacity_t)
        delay = scenario.overrides.delay_for(facility)
        uncertain = scenario.uncertainty.start_delay_years.for_facility(
            facility.id, facility.status
        )
        last_nameplate_year = first_anchor + delay - 1
        if first_anchor <= start or (
            uncertain is None and last_nameplate_year < max(start + delay, first_year)
        ):
            return "nameplate_t", (
                f"its capacity comes from the yearly anchors in capacity_t (from "
                f"{first_anchor}), so nameplate_t would set it in no simulated year; scale it "
                "with capacity_factor instead"
            )
    return None


def _error(scenario: Scenario, facility_id: str, field: str, reason: str) -> DataError:
    path = ("overrides", "facilities", facility_id, field)
    file = line = None
    if scenario.source is not None:
        file, line = scenario.source.locate(path)
    return DataError(
        f"override cannot act: {reason}",
        file=file,
        line=line,
        record=facility_id,
        field=format_path(path),
    )


__all__ = ["check_overrides_act"]
