"""A year without a solution, told in the user's terms: the policies and data records involved.

The engine's :class:`~rareflow.engine.diagnostics.InfeasibleYearError` lists the conflicting
rows and columns of the year's LP by their domain labels, e.g.
``stock_fill[region=JPN, element=Dy] within [1e+07, 1e+07]``. :class:`InfeasibleScenarioError`
maps those labels back onto what the user wrote or loaded: the scenario's policies whose kind
acts on the conflicting families and whose names appear in the labels, and the world records
(facilities, regions, sectors) the labels name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rareflow.engine.diagnostics import InfeasibleYearError
from rareflow.model.world import World
from rareflow.scenario.scenario import Scenario

#: Most conflicting constraints quoted in the one-line message.
MAX_QUOTED = 4

_LABEL = re.compile(r"^(?P<family>\w+)\[(?P<keys>[^\]]*)\]")

#: Instrument types whose effects act on each LP family, by the family's name prefix.
_ACTS_ON: tuple[tuple[str, frozenset[str]], ...] = (
    ("stock_", frozenset({"stockpile"})),
    ("recycle", frozenset({"recycling_target"})),
    ("scrap_", frozenset({"recycling_target"})),
    ("substitute", frozenset({"substitution"})),
    ("demand_block", frozenset({"demand_shock", "substitution"})),
    ("oxide_demand", frozenset({"demand_shock", "substitution"})),
    ("sector_mix", frozenset({"demand_shock", "substitution"})),
    ("magnet_use", frozenset({"demand_shock", "sourcing_cap"})),
    ("oxide_use", frozenset({"demand_shock", "sourcing_cap"})),
)
_TRADE = frozenset({"export_control", "tariff", "sourcing_cap", "offtake"})
_PRODUCTION = frozenset({"capacity_support", "fast_track", "offtake", "price_floor",
                         "export_control"})
#: Label keys that name a world record, and what to call it.
_RECORDS = {"facility": "facility", "region": "region", "sector": "sector",
            "origin": "region", "destination": "region", "exporter": "region",
            "importer": "region"}


class InfeasibleScenarioError(RuntimeError):
    """A scenario's year has no (bounded) solution; names the policies and records involved.

    Made by :meth:`explain`; its only argument is the message, so it pickles across processes.
    """

    @classmethod
    def explain(cls, error: InfeasibleYearError, scenario: Scenario,
                world: World) -> InfeasibleScenarioError:
        """The error for ``error`` in ``scenario`` on ``world``, in the user's terms."""
        policies = responsible_policies(error.conflicts, scenario, world)
        records = named_records(error.conflicts)
        return cls(describe(error, policies, records, scenario.name))


def describe(error: InfeasibleYearError, policies: list[str], records: list[str],
             scenario_name: str) -> str:
    """One line: the year, the policies and records involved, and the first conflicts."""
    parts = [f"scenario '{scenario_name}': market year {error.year} is "
             f"{error.status.lower()}, so it has no solution"]
    if policies:
        parts.append("policies involved: " + ", ".join(policies))
    if records:
        parts.append("data records involved: " + ", ".join(records))
    if not policies and not records:
        parts.append("no policy or data record could be singled out")
    quoted = error.conflicts[:MAX_QUOTED]
    if quoted:
        more = len(error.conflicts) - len(quoted)
        parts.append("conflicting constraints: " + "; ".join(quoted)
                     + (f" (and {more} more)" if more > 0 else ""))
    return "; ".join(parts)


def _parse(label: str) -> tuple[str, dict[str, str]] | None:
    match = _LABEL.match(label)
    if match is None:
        return None
    keys = {}
    for pair in match["keys"].split(","):
        key, sep, value = pair.strip().partition("=")
        if sep:
            keys[key] = value
    return match["family"], keys


def _kinds_acting_on(family: str) -> frozenset[str]:
    for prefix, kinds in _ACTS_ON:
        if family.startswith(prefix):
            return kinds
    if family.endswith(("_ship", "_direct")):
        return _TRADE
    return _PRODUCTION


def _members(name: str, world: World) -> set[str]:
    """``name`` and, when it is a region group, the regions in it."""
    return {name} | {region.id for region in world.regions if name in region.groups}


def responsible_policies(conflicts: Iterable[str], scenario: Scenario,
                         world: World) -> list[str]:
    """Policies that act on a conflicting family and name a region/facility/sector in it."""
    found: list[str] = []
    for label in conflicts:
        parsed = _parse(label)
        if parsed is None:
            continue
        family, keys = parsed
        kinds = _kinds_acting_on(family)
        values = set(keys.values())
        for policy in scenario.policies:
            if policy.type not in kinds:
                continue
            named = set().union(*(_members(ref.value, world) for ref in policy.references()))
            if named & values or not named:
                entry = f"'{policy.id}' ({policy.type})"
                if entry not in found:
                    found.append(entry)
    return found


def named_records(conflicts: Iterable[str]) -> list[str]:
    """World records (facilities, regions, sectors) the conflicting labels name."""
    found: list[str] = []
    for label in conflicts:
        parsed = _parse(label)
        if parsed is None:
            continue
        for key, value in parsed[1].items():
            kind = _RECORDS.get(key)
            entry = f"{kind} '{value}'" if kind else None
            if entry and entry not in found:
                found.append(entry)
    return found
