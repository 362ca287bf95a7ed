"""``offtake``: a buyer contracts to take a volume or share of a facility's output at a price."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.numbers import Real
from rareflow.scenario.dates import DateOrYear, Span, years_from
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Identifier, Reference


class Offtake(InstrumentBase):
    """A long-term contract: ``buyer`` takes ``share`` (up to ``volume_t``) of a facility's output.

    Meaning: for ``years`` years (the term) from ``start`` the buyer region (a government or its
    industry) buys ``share`` of what the facility produces, at most ``volume_t`` t/y (t magnet
    for magnet plants, t REO otherwise), at the contract price: ``price_usd_per_kg`` when given,
    else the market price bounded by ``floor_usd_per_kg`` and/or ``ceiling_usd_per_kg``, else
    the market price. Example: the US DoD takes 100 % of the MP 10X magnet plant for ten years,
    at cost plus a margin.

    How it acts on the market: the LP routes the contracted output to the buyer region, and with
    a contract price (or floor) the buyer guarantees that price to the plant on the contracted
    volume - the plant earns the market price plus ``contract - market`` per kg on that volume,
    so it runs whenever the contract covers its costs. The buyer's net cost,
    ``(contract price - market price) x contracted volume``, is reported as its fiscal cost
    (component ``offtake_net_cost``; negative when the market is above the contract price).
    ``guaranteed`` is kept for older scenarios and changes nothing: a contract price above cost
    already makes the plant run.
    """

    type: Literal["offtake"] = "offtake"
    buyer: str = Field(description="region id of the buyer")
    facility: Identifier
    share: Real = Field(default=1.0, gt=0, le=1, description="share of output contracted")
    volume_t: Real | None = Field(default=None, gt=0,
                                  description="contracted t/y (t magnet or t REO); None = share")
    start: DateOrYear
    years: int = Field(ge=1, le=50, description="term of the contract in years")
    price_usd_per_kg: Real | None = Field(default=None, gt=0,
                                          description="fixed contract price; None = market")
    floor_usd_per_kg: Real | None = Field(default=None, gt=0,
                                          description="the buyer pays at least this")
    ceiling_usd_per_kg: Real | None = Field(default=None, gt=0,
                                            description="the buyer pays at most this")
    guaranteed: bool = Field(default=False, description="kept for older scenarios; no effect")

    @model_validator(mode="after")
    def _one_price_rule(self) -> Offtake:
        bounded = self.floor_usd_per_kg is not None or self.ceiling_usd_per_kg is not None
        if self.price_usd_per_kg is not None and bounded:
            raise ValueError("give either 'price_usd_per_kg' or a floor/ceiling, not both")
        if (self.floor_usd_per_kg is not None and self.ceiling_usd_per_kg is not None
                and self.floor_usd_per_kg > self.ceiling_usd_per_kg):
            raise ValueError("'floor_usd_per_kg' must not exceed 'ceiling_usd_per_kg'")
        return self

    def is_priced(self) -> bool:
        """Whether the contract sets a price other than the plain market price."""
        return any(value is not None for value in (
            self.price_usd_per_kg, self.floor_usd_per_kg, self.ceiling_usd_per_kg))

    def contract_price(self, market: float) -> float:
        """The price (USD/kg) the buyer pays when the market price is ``market``."""
        if self.price_usd_per_kg is not None:
            return float(self.price_usd_per_kg)
        price = market
        if self.floor_usd_per_kg is not None:
            price = max(price, float(self.floor_usd_per_kg))
        if self.ceiling_usd_per_kg is not None:
            price = min(price, float(self.ceiling_usd_per_kg))
        return price

    def window(self) -> Span:
        """``start`` for ``years`` years."""
        return years_from(self.start, self.years)

    def references(self) -> list[Reference]:
        """Buyer and facility."""
        return [
            Reference("region", self.buyer, ("buyer",)),
            Reference("facility", self.facility, ("facility",)),
        ]
