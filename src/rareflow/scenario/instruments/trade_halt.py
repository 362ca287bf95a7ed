"""``trade_halt``: a company or a country stops selling a product to a destination."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.elements import ELEMENTS, Element
from rareflow.scenario.instruments.base import DatedInstrument
from rareflow.scenario.names import (
    Area,
    ElementSymbol,
    Identifier,
    Reference,
    TradedProduct,
    tracked,
)


class TradeHalt(DatedInstrument):
    """A seller's own decision to stop selling ``products`` to ``destinations``.

    Meaning: from ``start`` (to ``end``, if given) the seller - a company, named by its
    ``facilities`` or its ``operator`` name, or a whole ``country`` - sells none of the listed
    products (of the listed ``elements``, all if omitted) to the destination regions or groups.
    Example: MP Materials stopped shipping concentrate to China on 17 April 2025 and sells its
    oxide outside China.

    How it acts on the market: a country halt closes the country's shipments of the products to
    the destinations. A company halt limits the seller region's shipments of each product and
    element to the destinations to what the region's *other* producers make of it (products are
    fungible in a region, so this is the linear form of "none of the company's output goes
    there"). A halt starting within a year allows the year's remaining share of last year's
    flow. Re-export through third countries is not traced.
    """

    type: Literal["trade_halt"] = "trade_halt"
    facilities: tuple[Identifier, ...] = Field(default=(), description="the company's facilities")
    operator: str | None = Field(default=None, description="company name as in the facility data")
    country: str | None = Field(default=None, description="region id of a country-wide halt")
    products: tuple[TradedProduct, ...] = Field(min_length=1)
    destinations: tuple[Area, ...] = Field(min_length=1, description="region ids or groups")
    elements: tuple[ElementSymbol, ...] | None = Field(default=None, description="None = all")

    @model_validator(mode="after")
    def _one_seller(self) -> TradeHalt:
        given = [bool(self.facilities), self.operator is not None, self.country is not None]
        if sum(given) != 1:
            raise ValueError("name exactly one seller: 'facilities', 'operator' or 'country'")
        return self

    def tracked_elements(self) -> tuple[Element, ...]:
        """Tracked elements the halt covers."""
        return ELEMENTS if self.elements is None else tracked(self.elements)

    def references(self) -> list[Reference]:
        """Facilities or operator, the country and the destinations."""
        refs = [Reference("facility", f, ("facilities", i)) for i, f in enumerate(self.facilities)]
        if self.operator is not None:
            refs.append(Reference("operator", self.operator, ("operator",)))
        if self.country is not None:
            refs.append(Reference("region", self.country, ("country",)))
        refs.extend(Reference("area", d, ("destinations", i))
                    for i, d in enumerate(self.destinations))
        return refs
