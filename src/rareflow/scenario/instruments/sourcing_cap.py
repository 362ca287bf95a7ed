"""``sourcing_cap``: limits on dependence on any single supplier (EU CRMA benchmarks)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.elements import ELEMENTS, Element
from rareflow.model.numbers import Real
from rareflow.scenario.dates import Span, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Area, ElementSymbol, Enforcement, Reference, tracked

CappedStage = Literal["mining", "separation", "metal", "magnet", "recycling"]


class SourcingCap(InstrumentBase):
    """Caps on where ``importer`` sources a stage's output, from ``from_year`` on.

    Meaning: ``max_share`` - no single country outside the importer group may supply more than
    this share of the group's consumption at ``stage`` (CRMA: 65 % by 2030); ``min_own_share`` -
    at least this share of that consumption must be produced inside the group (CRMA benchmarks:
    10 % extraction, 40 % processing, 25 % recycling).

    How it acts on the market: with ``enforcement: constraint`` the LP adds, per covered element,
    ``sum of flows from country c into the group <= max_share x group consumption`` for every
    outside c, and ``group production >= min_own_share x group consumption``, with a penalty for
    violation; with ``benchmark`` compliance is only reported.
    """

    type: Literal["sourcing_cap"] = "sourcing_cap"
    importer: Area = Field(description="importing group or region, e.g. EU")
    stage: CappedStage
    max_share: Real | None = Field(default=None, gt=0, le=1)
    min_own_share: Real | None = Field(default=None, ge=0, le=1)
    from_year: int
    elements: tuple[ElementSymbol, ...] | None = Field(default=None, description="None = all")
    enforcement: Enforcement = "constraint"

    @model_validator(mode="after")
    def _has_limit(self) -> SourcingCap:
        if self.max_share is None and self.min_own_share is None:
            raise ValueError("give 'max_share' and/or 'min_own_share'")
        return self

    def window(self) -> Span:
        """From ``from_year`` on."""
        return start_date(self.from_year), None

    def tracked_elements(self) -> tuple[Element, ...]:
        """Tracked elements covered."""
        return ELEMENTS if self.elements is None else tracked(self.elements)

    def references(self) -> list[Reference]:
        """The importer."""
        return [Reference("area", self.importer, ("importer",))]
