"""What every policy instrument shares: an id, a citation, suspensions and its active share."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from rareflow.scenario.base import StrictModel
from rareflow.scenario.dates import (
    DateOrYear,
    Interval,
    Span,
    active_fraction,
    add_months,
    end_date,
    start_date,
)
from rareflow.scenario.names import Identifier, Reference


class InstrumentBase(StrictModel):
    """Fields common to all instruments.

    ``id`` names the policy in results and lets a scenario that ``extends`` this one replace or
    drop it. ``suspended`` lists spans in which the instrument does not apply (e.g. the
    November 2025 - November 2026 suspension of China's October 2025 controls); the engine sees
    them through :meth:`active_fraction`.
    """

    id: Identifier
    note: str | None = Field(default=None, description="what the policy is, in words")
    source: str | None = Field(default=None, description="citation (announcement, date, page)")
    suspended: tuple[Interval, ...] = Field(default=(), description="spans when it does not apply")

    def window(self) -> Span:
        """First and last day the instrument applies (inclusive; None = unbounded)."""
        return None, None

    def active_fraction(self, year: int) -> float:
        """Share of ``year`` (0..1) in which the instrument applies, net of suspensions.

        The yearly engine scales quantities (quotas, blocked shares, subsidies) by this share, so
        an instrument that starts on 1 December counts for 31/365 of its year.
        """
        return active_fraction(year, self.window(), (span.span() for span in self.suspended))

    def is_active(self, year: int) -> bool:
        """Whether the instrument applies on at least one day of ``year``."""
        return self.active_fraction(year) > 0

    def references(self) -> list[Reference]:
        """Regions, groups, facilities and sectors this instrument names (checked with a world)."""
        return []

    def can_shift(self) -> bool:
        """Whether policy-timing uncertainty can move this instrument (a suspension or a start)."""
        return bool(self.suspended) or self.window()[0] is not None

    def with_timing(self, applies: bool, shift_months: float = 0.0) -> Self:
        """A copy adjusted by one ensemble draw of policy timing.

        With suspensions, the draw is about the instrument's *return*: ``applies=False`` keeps it
        suspended for good after its last suspension starts, ``shift_months`` postpones the end of
        that suspension. Without suspensions, ``applies=False`` switches it off entirely and
        ``shift_months`` postpones its ``start``.
        """
        if self.suspended:
            *earlier, last = self.suspended
            if not applies:
                last = Interval(start=last.start, end=None)
            elif shift_months and last.end is not None:
                last_day = last.span()[1]
                assert last_day is not None
                last = Interval(start=last.start, end=add_months(last_day, shift_months))
            return self.model_copy(update={"suspended": (*earlier, last)})
        if not applies:
            return self.model_copy(update={"suspended": (Interval(start=1950, end=None),)})
        if shift_months:
            first = self.window()[0]
            if first is None or "start" not in type(self).model_fields:
                raise ValueError(f"policy '{self.id}' has no start date to shift")
            return self.model_copy(update={"start": add_months(first, shift_months)})
        return self


class DatedInstrument(InstrumentBase):
    """An instrument that applies from ``start`` to ``end`` (inclusive; no ``end``: for good)."""

    start: DateOrYear
    end: DateOrYear | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Self:
        if self.end is not None and end_date(self.end) < start_date(self.start):
            raise ValueError("'end' is before 'start'")
        return self

    def window(self) -> Span:
        """``start``..``end``."""
        return start_date(self.start), None if self.end is None else end_date(self.end)
