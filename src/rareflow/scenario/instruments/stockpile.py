"""``stockpile``: a strategic stock with fill and release rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.elements import Element
from rareflow.model.numbers import Real
from rareflow.scenario.base import StrictModel
from rareflow.scenario.instruments.base import DatedInstrument
from rareflow.scenario.names import ElementSymbol, Identifier, Reference, tracked


class ReleaseRule(StrictModel):
    """When stock may be released: above a price, and/or when listed sectors go short."""

    price_above_usd_per_kg: Real | None = Field(default=None, gt=0)
    on_shortfall: bool = False
    sectors: tuple[Identifier, ...] = Field(default=(), description="served first; empty = all")

    @model_validator(mode="after")
    def _has_trigger(self) -> ReleaseRule:
        if self.price_above_usd_per_kg is None and not self.on_shortfall:
            raise ValueError("give 'price_above_usd_per_kg' and/or 'on_shortfall: true'")
        if self.sectors and not self.on_shortfall:
            raise ValueError("'sectors' only applies with 'on_shortfall: true'")
        return self


class Stockpile(DatedInstrument):
    """A government stock of one element (t REO) held in ``region``.

    Meaning: the region buys up to ``fill_rate_t_per_y`` per year until it holds ``target_t``,
    starting from ``initial_t``; it releases stock when the ``release`` rule triggers.

    How it acts on the market: a storage variable links years (inventory carried over). While
    filling, purchases are demand at the market price (capped by the fill rate, scaled by
    :meth:`active_fraction`); in a year whose previous-year price exceeds the threshold, or in
    which the listed sectors would go short, purchases stop and the inventory becomes supply in
    the region (served to ``release.sectors`` first).
    """

    type: Literal["stockpile"] = "stockpile"
    region: str = Field(description="region id holding the stock")
    element: ElementSymbol
    target_t: Real = Field(gt=0)
    fill_rate_t_per_y: Real = Field(gt=0)
    initial_t: Real = Field(default=0.0, ge=0)
    release: ReleaseRule

    @model_validator(mode="after")
    def _consistent(self) -> Stockpile:
        if self.initial_t > self.target_t:
            raise ValueError("'initial_t' exceeds 'target_t'")
        return self

    def tracked_element(self) -> Element:
        """The tracked element stored."""
        return tracked([self.element])[0]

    def references(self) -> list[Reference]:
        """Region and release sectors."""
        return [
            Reference("region", self.region, ("region",)),
            *(
                Reference("sector", sector, ("release", "sectors", index))
                for index, sector in enumerate(self.release.sectors)
            ),
        ]
