"""Policy dates: ISO dates or bare years, inclusive periods and the active share of a year.

A period's ``start`` given as a year means 1 January of that year; an ``end`` given as a year means
31 December of that year. Both ends are inclusive: a control with ``end: 2026-11-10`` still applies
on 10 November 2026. The yearly engine scales each instrument by :func:`active_fraction`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from rareflow.scenario.base import StrictModel

MIN_YEAR = 1950
MAX_YEAR = 2150


def _parse_date_or_year(value: Any) -> dt.date | int:
    if isinstance(value, bool):
        raise ValueError("expected an ISO date (2025-04-04) or a year (2025), got a boolean")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        return _check_year(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and len(text) == 4:
            return _check_year(int(text))
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"expected an ISO date (2025-04-04) or a year (2025), got {value!r}")


def _check_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    return year


#: An ISO date or a bare year, as written in a scenario.
DateOrYear = Annotated[dt.date | int, BeforeValidator(_parse_date_or_year)]


def start_date(value: dt.date | int) -> dt.date:
    """First day covered by a period start (a year means 1 January)."""
    return dt.date(value, 1, 1) if isinstance(value, int) else value


def end_date(value: dt.date | int) -> dt.date:
    """Last day covered by a period end, inclusive (a year means 31 December)."""
    return dt.date(value, 12, 31) if isinstance(value, int) else value


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole ``years`` (29 February becomes 28 February when needed)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: float) -> dt.date:
    """``day`` moved by ``months``: calendar months when whole, else 30.44 days per month."""
    if float(months).is_integer():
        index = day.year * 12 + day.month - 1 + int(months)
        year, month = divmod(index, 12)
        last = calendar.monthrange(year, month + 1)[1]
        return dt.date(year, month + 1, min(day.day, last))
    return day + dt.timedelta(days=round(months * 30.436875))


def days_in_year(year: int) -> int:
    """Number of days in ``year``."""
    return 366 if calendar.isleap(year) else 365


Span = tuple[dt.date | None, dt.date | None]


def overlap_days(year: int, first: dt.date | None, last: dt.date | None) -> int:
    """Days of ``year`` inside the inclusive span ``first``..``last`` (None = unbounded)."""
    lo = max(first, dt.date(year, 1, 1)) if first else dt.date(year, 1, 1)
    hi = min(last, dt.date(year, 12, 31)) if last else dt.date(year, 12, 31)
    return max(0, (hi - lo).days + 1)


def active_fraction(year: int, window: Span, pauses: Iterable[Span] = ()) -> float:
    """Share of ``year`` inside ``window`` and outside every span in ``pauses``."""
    first, last = window
    active = overlap_days(year, first, last)
    if active == 0:
        return 0.0
    for pause_first, pause_last in _merge(pauses):
        lo = max(d for d in (first, pause_first) if d) if (first or pause_first) else None
        highs = [d for d in (last, pause_last) if d]
        hi = min(highs) if highs else None
        if lo is None or hi is None or lo <= hi:
            active -= overlap_days(year, lo, hi)
    return max(0.0, active / days_in_year(year))


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping spans so that no day is subtracted twice."""
    ordered = sorted(spans, key=lambda span: span[0] or dt.date.min)
    merged: list[Span] = []
    for first, last in ordered:
        if merged:
            prev_first, prev_last = merged[-1]
            if prev_last is None or (first is not None and first <= prev_last + dt.timedelta(1)):
                new_last = None if prev_last is None or last is None else max(prev_last, last)
                merged[-1] = (prev_first, new_last)
                continue
        merged.append((first, last))
    return merged


class Interval(StrictModel):
    """An inclusive span of time, e.g. a suspension: ``start`` to ``end`` (``end`` None = open)."""

    start: DateOrYear
    end: DateOrYear | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end is not None and end_date(self.end) < start_date(self.start):
            raise ValueError("interval 'end' is before its 'start'")
        return self

    def span(self) -> Span:
        """The interval as inclusive first and last days."""
        return start_date(self.start), end_date(self.end) if self.end is not None else None


class YearRange(StrictModel):
    """An inclusive range of simulated years, e.g. ``{start: 2024, end: 2040}``."""

    start: int
    end: int

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        _check_year(self.start)
        _check_year(self.end)
        if self.end < self.start:
            raise ValueError("years 'end' is before 'start'")
        return self

    def years(self) -> range:
        """The years of the range, both ends included."""
        return range(self.start, self.end + 1)


def years_from(start: dt.date | int, years: int) -> Span:
    """Inclusive span of ``years`` whole years from ``start``, to the day before the anniversary."""
    first = start_date(start)
    return first, add_years(first, years) - dt.timedelta(days=1)
