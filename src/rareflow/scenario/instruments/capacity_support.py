"""``capacity_support``: public money (equity, loan, grant) that adds or advances capacity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.numbers import Real
from rareflow.scenario.dates import DateOrYear, Span, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Identifier, Reference

SupportKind = Literal["equity", "loan", "grant"]


class CapacitySupport(InstrumentBase):
    """Financial support for one facility and its effect on that facility's capacity schedule.

    Meaning: a government (``funder``, a region id) commits ``amount_usd_m`` million USD as
    ``kind`` (equity, loan or grant), e.g. the DoD's $400 M preferred equity in MP Materials.

    How it acts on the market: the facility's start year moves ``advance_years`` earlier (never
    before ``start``, the year the support is granted), and ``adds_t`` t/y (t REO, or t magnet
    for magnet plants) of nameplate capacity is added from ``from_year`` (default: the facility's
    own start), following the facility's ramp-up.

    Fiscal cost (see :mod:`rareflow.policy.capacity_support`): a grant at face value in the
    ``start`` year; equity at its expected loss, ``expected_loss_share x amount``, in the
    ``start`` year; a loan at its expected cost in each year of its ``term_years``: the interest
    subsidy ``(market_rate_pct - loan_rate_pct) / 100 x amount`` plus the expected loss
    ``default_rate_pct / 100 x loss_given_default x amount`` (outstanding principal taken as
    the full amount until repaid at the end of the term). The defaults are stated assumptions;
    scenarios should set the terms of the actual deal.
    """

    type: Literal["capacity_support"] = "capacity_support"
    facility: Identifier
    kind: SupportKind
    funder: str = Field(default="USA", description="region id of the funding government")
    amount_usd_m: Real = Field(default=0.0, ge=0, description="million USD")
    adds_t: Real = Field(default=0.0, ge=0, description="extra nameplate, t/y")
    advance_years: int = Field(default=0, ge=0, le=15)
    start: DateOrYear | None = Field(default=None, description="when the support is granted")
    from_year: int | None = Field(default=None, description="year the added capacity starts")
    loan_rate_pct: Real = Field(default=4.0, ge=0, le=30,
                                description="loan: interest the borrower pays, % a year")
    market_rate_pct: Real = Field(
        default=4.5, ge=0, le=30,
        description="loan: the funder's own cost of money, % a year (default: about the 10-year "
                    "US Treasury yield of 2025; a commercial rate would count default risk twice)")
    term_years: int = Field(default=10, ge=1, le=40, description="loan: years until repaid")
    default_rate_pct: Real = Field(
        default=2.0, ge=0, le=100,
        description="loan: yearly default probability, % (default: about the historical "
                    "yearly default rate of single-B/BB borrowers)")
    loss_given_default: Real = Field(
        default=0.6, ge=0, le=1,
        description="loan: share of principal lost on default (default: unsecured senior debt "
                    "recovers about 40 %)")
    expected_loss_share: Real = Field(
        default=0.25, ge=0, le=1,
        description="equity: expected share of the amount lost (default: a single-company, "
                    "pre-revenue industrial stake at terms a private investor declined)")

    @model_validator(mode="after")
    def _has_effect(self) -> CapacitySupport:
        if not (self.amount_usd_m or self.adds_t or self.advance_years):
            raise ValueError("give at least one of 'amount_usd_m', 'adds_t' or 'advance_years'")
        return self

    def window(self) -> Span:
        """From ``start`` (if given) on."""
        return (None if self.start is None else start_date(self.start)), None

    def references(self) -> list[Reference]:
        """The supported facility and the funder."""
        return [
            Reference("facility", self.facility, ("facility",)),
            Reference("region", self.funder, ("funder",)),
        ]
