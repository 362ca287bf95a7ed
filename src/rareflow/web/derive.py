"""Derive a new, validated scenario from a bundled one and the dashboard's levers.

The derived scenario is built as plain scenario data (what a YAML file would hold) and then
validated by the scenario schema and against the world, exactly like a file would be, so the
dashboard can never run a scenario the command line would reject.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.scenario.instruments import Offtake, PriceFloor, RecyclingTarget
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.world_check import validate_against_world
from rareflow.web.levers import (
    DEFAULT_RECYCLING_YEAR,
    NEW_POLICY_TERMS,
    ExportControlLever,
    Levers,
    control_lever,
    editable_controls,
)

MAX_DESCRIPTION = 240
SUFFIX = "-dashboard"


class LeverError(ValueError):
    """Levers that cannot be applied to the chosen scenario (the message says why)."""


@dataclass(frozen=True)
class Derived:
    """A scenario derived from a bundled one, with a plain-language list of what changed."""

    scenario: Scenario
    changes: tuple[str, ...]


def derive_scenario(base: Scenario, levers: Levers, world: World) -> Derived:
    """``base`` with ``levers`` applied, validated like a scenario file.

    Unchanged levers leave the scenario as it is (same name and description). Otherwise the
    result is named ``<base>-dashboard`` and its description lists the changes. Raises
    :class:`LeverError` when a lever names a policy the scenario lacks or the result is invalid.
    """
    data = base.to_plain()
    policies: list[dict[str, Any]] = data.setdefault("policies", [])
    changes: list[str] = []
    if levers.export_control is not None:
        _export_control(base, policies, levers.export_control, changes)
    if levers.price_floor_usd_per_kg is not None:
        _single_value(policies, _first_id(base, PriceFloor), "price_floor",
                      "floor_usd_per_kg", levers.price_floor_usd_per_kg,
                      f"NdPr price floor {levers.price_floor_usd_per_kg:g} USD/kg", changes)
    if levers.offtake_share is not None:
        _single_value(policies, _first_id(base, Offtake), "offtake", "share",
                      levers.offtake_share, f"offtake share {levers.offtake_share:.0%}", changes)
    if levers.recycling_share is not None or levers.recycling_by_year is not None:
        _recycling(base, policies, levers, changes)
    _delays(data, levers, changes)
    dropped = {p.id for p in base.policies} - {p["id"] for p in policies}
    _prune_timing(data, dropped)
    if data == base.to_plain():
        return Derived(base, ())
    data["name"] = _derived_name(base.name)
    data["description"] = _description(base.name, changes)
    scenario = _validate(data, world)
    scenario = scenario.with_origin((scenario.name, *base.lineage))
    return Derived(scenario, tuple(changes))


def _export_control(
    base: Scenario, policies: list[dict[str, Any]], lever: ExportControlLever, changes: list[str]
) -> None:
    fields: dict[str, Any] = {
        "start": lever.start,
        "end": lever.end,
        "elements": list(lever.elements),
        "mode": lever.mode,
        "approval_share": lever.approval_share if lever.mode == "licence" else None,
    }
    window = f"{lever.start.isoformat()} to {lever.end.isoformat() if lever.end else 'open end'}"
    what = (f"{'ban' if lever.mode == 'ban' else f'licences ({lever.approval_share:.0%} approved)'}"
            f" on {', '.join(lever.elements)} from {window}")
    if lever.policy is None:
        if lever.enabled:
            policies.append(_clean({**NEW_POLICY_TERMS["export_control"], **fields}))
            changes.append(f"new export control: {what}")
        return
    editable = {control.id: control for control in editable_controls(base)}
    if lever.policy not in editable:
        known = ", ".join(editable) or "none - leave 'policy' unset to add one"
        raise LeverError(
            f"scenario '{base.name}' has no editable export control '{lever.policy}' "
            f"(its element export controls: {known})"
        )
    index = _index(policies, lever.policy)
    if not lever.enabled:
        del policies[index]
        changes.append(f"export control {lever.policy} switched off")
        return
    if _same_control(control_lever(editable[lever.policy]), lever):
        return
    edited = {**policies[index], **fields}
    if lever.mode == "ban":
        edited.pop("delay_months", None)
    policies[index] = _clean(edited)
    changes.append(f"export control {lever.policy}: {what}")


def _same_control(a: ExportControlLever, b: ExportControlLever) -> bool:
    """Whether two settings mean the same control (element order and unused shares aside)."""
    return (
        (a.start, a.end, a.mode, set(a.elements)) == (b.start, b.end, b.mode, set(b.elements))
        and (a.mode == "ban" or a.approval_share == b.approval_share)
    )


def _single_value(
    policies: list[dict[str, Any]],
    target: str | None,
    kind: str,
    field: str,
    value: float,
    label: str,
    changes: list[str],
) -> None:
    """Set ``field`` of the target policy, drop it at 0, or add a ``kind`` policy when absent."""
    if target is None:
        if value > 0:
            policies.append({**NEW_POLICY_TERMS[kind], field: value})
            changes.append(f"new {label}")
        return
    index = _index(policies, target)
    if value == 0:
        del policies[index]
        changes.append(f"{target} removed")
    elif policies[index][field] != value:
        policies[index] = {**policies[index], field: value}
        changes.append(f"{target}: {label}")


def _recycling(
    base: Scenario, policies: list[dict[str, Any]], levers: Levers, changes: list[str]
) -> None:
    target = _first_id(base, RecyclingTarget)
    if target is None:
        share = levers.recycling_share or 0.0
        by_year = levers.recycling_by_year or DEFAULT_RECYCLING_YEAR
        if share > 0:
            terms = NEW_POLICY_TERMS["recycling_target"]
            policies.append({**terms, "share": share, "by_year": by_year,
                             "from_year": min(terms["from_year"], by_year - 1)})
            changes.append(f"new recycling target {share:.0%} of US demand by {by_year}")
        return
    index = _index(policies, target)
    current = policies[index]
    share = current["share"] if levers.recycling_share is None else levers.recycling_share
    by_year = current["by_year"] if levers.recycling_by_year is None else levers.recycling_by_year
    if share == 0:
        del policies[index]
        changes.append(f"{target} removed")
        return
    edited = {**current, "share": share, "by_year": by_year,
              "from_year": min(current.get("from_year", by_year - 1), by_year - 1)}
    if edited != current:
        policies[index] = edited
        changes.append(f"{target}: {share:.0%} recycled by {by_year}")


def _delays(data: dict[str, Any], levers: Levers, changes: list[str]) -> None:
    wanted = {
        "announced": levers.delay_announced_years,
        "under_construction": levers.delay_under_construction_years,
    }
    overrides = data.setdefault("overrides", {})
    by_status = dict(overrides.get("delay_years_by_status", {}))
    for status, delay in wanted.items():
        if delay is not None and by_status.get(status, 0) != delay:
            by_status[status] = delay
            changes.append(f"{status.replace('_', ' ')} projects delayed {delay} y")
    if by_status:
        overrides["delay_years_by_status"] = by_status


def _prune_timing(data: dict[str, Any], dropped: set[str]) -> None:
    """Remove dropped policies from timing uncertainty (which must name existing policies)."""
    timing = data.get("uncertainty", {}).get("policy_timing")
    if not timing or not dropped:
        return
    for key, entry in list(timing.items()):
        ids = entry.get("policies") or [key]
        kept = [policy_id for policy_id in ids if policy_id not in dropped]
        if not kept:
            del timing[key]
        elif entry.get("policies"):
            timing[key] = {**entry, "policies": kept}


def _validate(data: dict[str, Any], world: World) -> Scenario:
    try:
        scenario = Scenario.model_validate(copy.deepcopy(data))
        validate_against_world(scenario, world)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'scenario'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise LeverError(f"the levers make an invalid scenario: {problems}") from None
    except DataError as exc:
        raise LeverError(f"the levers make an invalid scenario: {exc}") from None
    return scenario


def _first_id(scenario: Scenario, kind: type[PriceFloor | Offtake | RecyclingTarget]) -> str | None:
    found = scenario.policies_of(kind)
    return found[0].id if found else None


def _index(policies: list[dict[str, Any]], policy_id: str) -> int:
    return next(i for i, policy in enumerate(policies) if policy["id"] == policy_id)


def _clean(policy: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in policy.items() if value is not None}


def _derived_name(base: str) -> str:
    return base if base.endswith(SUFFIX) else base + SUFFIX


def _description(base: str, changes: list[str]) -> str:
    text = f"{base} with dashboard levers: " + "; ".join(changes) if changes else base
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"
