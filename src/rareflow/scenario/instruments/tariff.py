"""``tariff``: a per-kg or ad-valorem charge (or, if negative, a subsidy) on a trade flow."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.elements import ELEMENTS, Element
from rareflow.model.numbers import Real
from rareflow.scenario.instruments.base import DatedInstrument
from rareflow.scenario.names import ALL, Area, ElementSymbol, Reference, TradedProduct, tracked


class Tariff(DatedInstrument):
    """A charge on shipments of ``product`` from ``exporter`` to ``importer``.

    Meaning: an import tariff (set by the importer) or an export tax/subsidy (set by the exporter)
    on the listed ``elements`` (all if omitted). Exactly one of ``usd_per_kg`` or ``ad_valorem``
    (share of value, 0.25 = 25 %) is given. Negative values are subsidies, e.g. an exporter
    undercutting entrants in a price war.

    How it acts on the market: the yearly LP adds ``usd_per_kg`` (ad valorem: share times the
    previous year's price of the product) times :meth:`active_fraction` to the cost of every
    covered trade variable; the revenue (or, for subsidies, the fiscal cost) is reported for the
    region that levies it.
    """

    type: Literal["tariff"] = "tariff"
    importer: Area = Field(description="importing region, group or 'all'")
    exporter: Area = Field(description="exporting region, group or 'all'")
    product: TradedProduct
    elements: tuple[ElementSymbol, ...] | None = Field(default=None, description="None = all")
    usd_per_kg: Real | None = Field(default=None, description="per kg; negative = subsidy")
    ad_valorem: Real | None = Field(default=None, ge=-1, description="share of value")

    @model_validator(mode="after")
    def _one_rate(self) -> Tariff:
        if (self.usd_per_kg is None) == (self.ad_valorem is None):
            raise ValueError("give exactly one of 'usd_per_kg' or 'ad_valorem'")
        if self.importer == self.exporter != ALL:
            raise ValueError("'importer' and 'exporter' must differ")
        return self

    def tracked_elements(self) -> tuple[Element, ...]:
        """Tracked elements the tariff applies to."""
        return ELEMENTS if self.elements is None else tracked(self.elements)

    def references(self) -> list[Reference]:
        """Importer and exporter."""
        return [
            Reference("area", value, (field,))
            for field, value in (("importer", self.importer), ("exporter", self.exporter))
            if value != ALL
        ]
