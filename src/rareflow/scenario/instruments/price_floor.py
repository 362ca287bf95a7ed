"""``price_floor``: a government guarantees named producers a minimum price."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rareflow.model.elements import Element
from rareflow.model.numbers import Real
from rareflow.scenario.dates import DateOrYear, Span, years_from
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import ElementSymbol, Identifier, Reference, tracked


class PriceFloor(InstrumentBase):
    """A guaranteed minimum price for ``element`` in ``product`` made by ``producers``.

    Meaning: for ``years`` years from ``start`` the ``payer`` (a region's government) pays each
    listed facility the gap between ``floor_usd_per_kg`` and the market price on what it sells
    (e.g. the US DoD's $110/kg NdPr oxide floor for MP Materials, July 2025, ten years).

    How it acts on the market: the engine (myopic, year by year) credits covered output with
    ``max(0, floor - last year's price)`` per kg as a negative cost, so producers run as if paid
    the floor; the gap times output is reported as the payer's fiscal cost.
    """

    type: Literal["price_floor"] = "price_floor"
    producers: tuple[Identifier, ...] = Field(min_length=1, description="facility ids")
    product: Literal["oxide", "metal", "magnet"] = "oxide"
    element: ElementSymbol = "NdPr"
    floor_usd_per_kg: Real = Field(gt=0)
    start: DateOrYear
    years: int = Field(ge=1, le=50, description="duration in years")
    payer: str = Field(description="region id whose government pays the gap")

    def window(self) -> Span:
        """``start`` for ``years`` years."""
        return years_from(self.start, self.years)

    def tracked_element(self) -> Element:
        """The tracked element the floor applies to."""
        return tracked([self.element])[0]

    def references(self) -> list[Reference]:
        """Producers and payer."""
        return [
            *(Reference("facility", f, ("producers", i)) for i, f in enumerate(self.producers)),
            Reference("region", self.payer, ("payer",)),
        ]
