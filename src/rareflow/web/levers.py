"""Dashboard levers: the policy settings an analyst may change, with bounds and defaults.

A lever left out (``None``) keeps the scenario's own setting. The defaults shown for a scenario
are read from it (:func:`lever_defaults`); :mod:`rareflow.web.derive` turns a scenario plus
levers into a new scenario.

Each lever edits one policy of the scenario (its *target*) or, when the scenario has none, adds
one with documented terms (:data:`NEW_POLICY_TERMS`):

* ``export_control``: edits the element export control named by ``policy`` (the dashboard offers
  the scenario's own; the default is its last one, the most specific) or, with ``policy`` unset,
  adds a Chinese control to all destinations. ``enabled: false`` drops the named policy.
* ``price_floor_usd_per_kg``, ``offtake_share``, ``recycling_share``: edit the scenario's first
  policy of that kind; 0 drops it. Without one, a value above 0 adds one on the terms of the
  July 2025 DoD-MP Materials deal (``mp-dod-2025``) or the US recycling target Jui Chia-wei
  describes (2 Oct 2025; ``recycling-20pct-2030``).
* ``delay_*_years``: start delays of every announced / under-construction project (a facility's
  own delay in the scenario still wins).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rareflow.model.elements import OTHER_HEAVY_MEMBERS
from rareflow.model.numbers import Real
from rareflow.scenario.base import ID_PATTERN
from rareflow.scenario.dates import end_date, start_date
from rareflow.scenario.instruments import ExportControl, Offtake, PriceFloor, RecyclingTarget
from rareflow.scenario.scenario import Scenario

#: Simulated years the dashboard allows (the world data is calibrated from 2024).
FIRST_YEAR, LAST_YEAR = 2024, 2050
#: Policy dates the levers accept.
FIRST_DATE, LAST_DATE = dt.date(2020, 1, 1), dt.date(2050, 12, 31)
MAX_PRICE_FLOOR = 500.0
MAX_DELAY_YEARS = 15

#: Rare earths an export control can name in the dashboard, by atomic number (Pm has no trade).
ElementChoice = Literal[
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"
]
ELEMENT_CHOICES: tuple[ElementChoice, ...] = get_args(ElementChoice)

#: Terms of the policies a lever adds to a scenario that has no policy of its kind.
NEW_POLICY_TERMS: dict[str, dict[str, Any]] = {
    "export_control": {
        "id": "dashboard_export_control", "type": "export_control",
        "note": "Export control added in the dashboard.", "source": "rareflow dashboard lever",
        "exporter": "CHN", "products": ["oxide", "metal", "magnet"], "destinations": "all",
    },
    "price_floor": {
        "id": "dashboard_price_floor", "type": "price_floor",
        "note": "NdPr oxide price floor for MP Materials added in the dashboard.",
        "source": "rareflow dashboard lever, on the terms of mp-dod-2025",
        "producers": ["mp_mountain_pass_separation"], "product": "oxide", "element": "NdPr",
        "start": dt.date(2025, 10, 1), "years": 10, "payer": "USA",
    },
    "offtake": {
        "id": "dashboard_offtake", "type": "offtake",
        "note": "US offtake of the MP 10X magnet plant added in the dashboard.",
        "source": "rareflow dashboard lever, on the terms of mp-dod-2025",
        "buyer": "USA", "facility": "mp_10x_magnets", "start": 2028, "years": 10,
        "floor_usd_per_kg": 88,
    },
    "recycling_target": {
        "id": "dashboard_recycling_target", "type": "recycling_target",
        "note": "US recycled-content target added in the dashboard.",
        "source": "rareflow dashboard lever, on the terms of recycling-20pct-2030",
        "region": "USA", "from_year": 2025, "path": "linear", "enforcement": "constraint",
    },
}
DEFAULT_RECYCLING_YEAR = 2030


class LeverModel(BaseModel):
    """Strict request model: unknown keys, NaN and infinities are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ExportControlLever(LeverModel):
    """An export control on rare earths: which policy, when, which elements, ban or licences."""

    policy: str | None = Field(
        default=None, pattern=ID_PATTERN, max_length=64,
        description="id of the scenario's export control to edit; unset = add a new one",
    )
    enabled: bool = True
    start: dt.date = Field(ge=FIRST_DATE, le=LAST_DATE)
    end: dt.date | None = Field(default=None, ge=FIRST_DATE, le=LAST_DATE)
    elements: tuple[ElementChoice, ...] = Field(min_length=1, max_length=len(ELEMENT_CHOICES))
    mode: Literal["ban", "licence"] = "ban"
    approval_share: Real = Field(default=0.5, ge=0, le=1, description="licence mode only")

    @model_validator(mode="after")
    def _consistent(self) -> ExportControlLever:
        if self.end is not None and self.end < self.start:
            raise ValueError("export control 'end' is before its 'start'")
        if len(set(self.elements)) != len(self.elements):
            raise ValueError("export control 'elements' lists an element twice")
        return self


class Levers(LeverModel):
    """The dashboard's levers; a lever left out keeps the scenario's own setting."""

    export_control: ExportControlLever | None = None
    price_floor_usd_per_kg: Real | None = Field(default=None, ge=0, le=MAX_PRICE_FLOOR)
    offtake_share: Real | None = Field(default=None, ge=0, le=1)
    recycling_share: Real | None = Field(default=None, ge=0, le=1)
    recycling_by_year: int | None = Field(default=None, ge=FIRST_YEAR + 1, le=LAST_YEAR)
    delay_announced_years: int | None = Field(default=None, ge=0, le=MAX_DELAY_YEARS)
    delay_under_construction_years: int | None = Field(default=None, ge=0, le=MAX_DELAY_YEARS)


def editable_controls(scenario: Scenario) -> list[ExportControl]:
    """The scenario's export controls the lever can edit: on elements, in ban or licence mode."""
    return [
        control for control in scenario.policies_of(ExportControl)
        if control.elements and control.mode in ("ban", "licence")
    ]


def control_lever(control: ExportControl) -> ExportControlLever:
    """The lever settings that describe an existing export control."""
    symbols: set[str] = set()
    for symbol in control.elements:
        if symbol == "NdPr":
            symbols |= {"Nd", "Pr"}
        elif symbol == "other_heavy":
            symbols |= set(OTHER_HEAVY_MEMBERS)
        elif symbol in ELEMENT_CHOICES:
            symbols.add(symbol)
    return ExportControlLever(
        policy=control.id,
        start=max(FIRST_DATE, min(LAST_DATE, start_date(control.start))),
        end=None if control.end is None else max(FIRST_DATE, min(LAST_DATE, end_date(control.end))),
        elements=tuple(e for e in ELEMENT_CHOICES if e in symbols),
        mode="licence" if control.mode == "licence" else "ban",
        approval_share=control.approval_share if control.approval_share is not None else 0.5,
    )


def lever_defaults(scenario: Scenario) -> Levers:
    """Every lever set to what ``scenario`` already does (0 where it has no such policy)."""
    controls = editable_controls(scenario)
    if controls:
        export_control = control_lever(controls[-1])
    else:
        export_control = ExportControlLever(
            enabled=False, start=dt.date(2026, 1, 1), elements=("Tb", "Dy"), mode="ban"
        )
    floors = scenario.policies_of(PriceFloor)
    offtakes = scenario.policies_of(Offtake)
    targets = scenario.policies_of(RecyclingTarget)
    delays = scenario.overrides.delay_years_by_status
    return Levers(
        export_control=export_control,
        price_floor_usd_per_kg=floors[0].floor_usd_per_kg if floors else 0.0,
        offtake_share=offtakes[0].share if offtakes else 0.0,
        recycling_share=targets[0].share if targets else 0.0,
        recycling_by_year=targets[0].by_year if targets else DEFAULT_RECYCLING_YEAR,
        delay_announced_years=_clamp_delay(delays.get("announced", 0)),
        delay_under_construction_years=_clamp_delay(delays.get("under_construction", 0)),
    )


def lever_targets(scenario: Scenario) -> dict[str, Any]:
    """Which policy each lever edits in ``scenario`` (None: the lever adds one)."""
    floors = scenario.policies_of(PriceFloor)
    offtakes = scenario.policies_of(Offtake)
    targets = scenario.policies_of(RecyclingTarget)
    return {
        "export_controls": {c.id: control_lever(c).model_dump(mode="json")
                            for c in editable_controls(scenario)},
        "price_floor": floors[0].id if floors else None,
        "offtake": offtakes[0].id if offtakes else None,
        "recycling_target": targets[0].id if targets else None,
    }


def lever_bounds() -> dict[str, Any]:
    """Bounds of every lever, for the page's controls (the server enforces the same)."""
    return {
        "years": {"min": FIRST_YEAR, "max": LAST_YEAR},
        "dates": {"min": FIRST_DATE.isoformat(), "max": LAST_DATE.isoformat()},
        "elements": list(ELEMENT_CHOICES),
        "price_floor_usd_per_kg": {"min": 0, "max": MAX_PRICE_FLOOR},
        "offtake_share": {"min": 0, "max": 1},
        "recycling_share": {"min": 0, "max": 1},
        "recycling_by_year": {"min": FIRST_YEAR + 1, "max": LAST_YEAR},
        "delay_years": {"min": 0, "max": MAX_DELAY_YEARS},
        "new_policy_terms": {key: _jsonable(terms) for key, terms in NEW_POLICY_TERMS.items()},
    }


def _clamp_delay(delay: int) -> int:
    return max(0, min(MAX_DELAY_YEARS, delay))


def _jsonable(terms: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in terms.items()}

