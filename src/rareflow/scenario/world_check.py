"""Check the names a scenario uses against a world dataset."""

from __future__ import annotations

from rareflow.model.errors import DataError, closest_name
from rareflow.model.world import World
from rareflow.scenario.diagnostics import format_path
from rareflow.scenario.names import Reference
from rareflow.scenario.override_check import check_overrides_act
from rareflow.scenario.scenario import Scenario

_LABELS = {
    "region": "region",
    "area": "region or group",
    "facility": "facility",
    "sector": "sector",
    "operator": "facility operator",
}


def valid_names(world: World) -> dict[str, set[str]]:
    """Valid names per reference kind in ``world``."""
    regions = set(world.region_ids)
    groups = {group for region in world.regions for group in region.groups}
    return {
        "region": regions,
        "area": regions | groups,
        "facility": {facility.id for facility in world.facilities},
        "sector": {sector.id for sector in world.sectors},
        "operator": {facility.operator for facility in world.facilities},
    }


def validate_against_world(scenario: Scenario, world: World, *,
                           own_years: bool = True) -> None:
    """Raise :class:`DataError` at the first name in ``scenario`` that ``world`` lacks.

    Checks region ids, groups, facility ids and sector ids used by policies, overrides and
    uncertainty entries; the error names file, line and field and suggests the closest name.
    Then refuses facility overrides that could not act on ``world`` (:func:`check_overrides_act`).
    The scenario's ``world`` (if it names one) must be ``world``'s vintage, and its ``years``
    must lie in the range the world can simulate (unless ``own_years`` is false: the caller
    runs other years).
    """
    scenario.world_name(world.vintage)  # a scenario of another world is refused first
    valid = valid_names(world)
    for ref in scenario.references():
        if ref.value not in valid[ref.kind]:
            raise _unknown(scenario, ref, valid[ref.kind])
    check_overrides_act(scenario, world)
    if own_years:
        scenario.run_years(world)  # its own years must lie in the world's range


def _unknown(scenario: Scenario, ref: Reference, options: set[str]) -> DataError:
    file = line = None
    if scenario.source is not None:
        file, line = scenario.source.locate(ref.path)
    record = None
    if ref.path[:1] == ("policies",) and isinstance(ref.path[1], int):
        record = scenario.policies[ref.path[1]].id
    return DataError(
        f"unknown {_LABELS[ref.kind]} '{ref.value}'",
        file=file,
        line=line,
        record=record,
        field=format_path(ref.path),
        suggestion=closest_name(ref.value, sorted(options)),
    )


__all__ = ["valid_names", "validate_against_world"]
