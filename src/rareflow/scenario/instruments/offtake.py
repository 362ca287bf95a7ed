"""``offtake``: a buyer commits to take a share of a facility's output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rareflow.model.numbers import Real
from rareflow.scenario.dates import DateOrYear, Span, years_from
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Identifier, Reference


class Offtake(InstrumentBase):
    """A long-term contract: ``buyer`` takes ``share`` of ``facility``'s output.

    Meaning: for ``years`` years from ``start`` the buyer region (a government or its industry)
    buys ``share`` of whatever the facility produces, at ``price_usd_per_kg`` when given (else at
    the market price). Example: the US DoD takes 100 % of the MP 10X magnet plant for ten years.

    How it acts on the market: the LP routes ``share`` of the facility's output to the buyer
    region (delivery variable >= share x output, scaled by :meth:`active_fraction`), and with a
    contract price the engine credits the facility with ``price - market price`` per kg
    (reported as the buyer's fiscal cost when positive). ``guaranteed`` also makes the
    facility run at capacity whenever the contract price covers its unit cost.
    """

    type: Literal["offtake"] = "offtake"
    buyer: str = Field(description="region id of the buyer")
    facility: Identifier
    share: Real = Field(gt=0, le=1)
    start: DateOrYear
    years: int = Field(ge=1, le=50)
    price_usd_per_kg: Real | None = Field(default=None, gt=0, description="None = market")
    guaranteed: bool = Field(default=False, description="buyer takes output even if unneeded")

    def window(self) -> Span:
        """``start`` for ``years`` years."""
        return years_from(self.start, self.years)

    def references(self) -> list[Reference]:
        """Buyer and facility."""
        return [
            Reference("region", self.buyer, ("buyer",)),
            Reference("facility", self.facility, ("facility",)),
        ]

