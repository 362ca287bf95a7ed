"""``demand_shock``: a one-off or temporary change in a sector's demand."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from rareflow.model.numbers import Real
from rareflow.scenario.dates import Span, end_date, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import ALL, Area, Identifier, Reference


class DemandShock(InstrumentBase):
    """Multiply ``sector`` demand in ``region`` by ``factor`` in ``years``.

    Meaning: e.g. a defence surge (factor 1.5 in 2027-2029) or an EV slump (0.8 in 2026).
    ``years`` is one year or a list; ``sector`` and ``region`` accept ``all``.

    How it acts on the market: the demand blocks of the covered sector and regions are scaled by
    ``factor`` in the listed years (the shock does not compound into later years' growth).
    """

    type: Literal["demand_shock"] = "demand_shock"
    region: Area = ALL
    sector: Identifier | Literal["all"]
    years: tuple[int, ...] = Field(min_length=1)
    factor: Real = Field(gt=0, le=100)

    @field_validator("years", mode="before")
    @classmethod
    def _one_year(cls, value: object) -> object:
        return (value,) if isinstance(value, int) else value

    def window(self) -> Span:
        """First to last shocked year (gaps are handled by :meth:`active_fraction`)."""
        return start_date(min(self.years)), end_date(max(self.years))

    def active_fraction(self, year: int) -> float:
        """1 in a shocked year (unless suspended), else 0."""
        return super().active_fraction(year) if year in self.years else 0.0

    def factor_in(self, year: int) -> float:
        """Demand multiplier in ``year`` (1 outside the shock)."""
        return 1.0 + (self.factor - 1.0) * self.active_fraction(year)

    def references(self) -> list[Reference]:
        """Sector and region."""
        refs = []
        if self.sector != ALL:
            refs.append(Reference("sector", self.sector, ("sector",)))
        if self.region != ALL:
            refs.append(Reference("area", self.region, ("region",)))
        return refs
