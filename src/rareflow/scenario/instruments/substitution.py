"""``substitution``: a technology that replaces rare-earth magnets in a sector."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rareflow.model.numbers import Real
from rareflow.scenario.dates import Span, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import ALL, Area, ElementSymbol, Identifier, Reference


class Substitution(InstrumentBase):
    """A substitute (ferrite or induction motors, Dy-free grades, iron nitride) for ``sector``.

    Meaning: from ``available_from`` the technology can serve up to ``max_share`` of the sector's
    demand in ``region`` (reached over ``ramp_years``) at ``cost_usd_per_kg`` of magnet demand
    replaced. ``saves`` lists the elements it removes (default: the whole magnet; a Dy-free grade
    saves only Dy and Tb).

    How it acts on the market: the engine adds (or replaces the world's) substitution option of
    the sector: a variable bounded by :meth:`available_share` x demand, costing the given price,
    that competes with rare-earth supply in the demand balance.
    """

    type: Literal["substitution"] = "substitution"
    sector: Identifier
    technology: str = Field(min_length=1)
    region: Area = ALL
    available_from: int
    max_share: Real = Field(gt=0, le=1)
    cost_usd_per_kg: Real = Field(ge=0)
    ramp_years: int = Field(default=0, ge=0, le=30)
    saves: tuple[ElementSymbol, ...] | None = Field(default=None, description="None = all")

    def window(self) -> Span:
        """From ``available_from`` on."""
        return start_date(self.available_from), None

    def available_share(self, year: int) -> float:
        """Share of demand the substitute can serve in ``year``."""
        if year < self.available_from:
            return 0.0
        if self.ramp_years == 0:
            return self.max_share
        return self.max_share * min(1.0, (year - self.available_from + 1) / (self.ramp_years + 1))

    def references(self) -> list[Reference]:
        """Sector and region."""
        refs = [Reference("sector", self.sector, ("sector",))]
        if self.region != ALL:
            refs.append(Reference("area", self.region, ("region",)))
        return refs
