"""Request models of the dashboard API: strict, bounded, no paths and no code."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from rareflow.scenario.scenario import NAME_PATTERN
from rareflow.web.levers import FIRST_YEAR, LAST_YEAR, LeverModel, Levers

#: Run ids as the store makes them (hex), or a unique prefix of at least four characters.
RUN_ID_PATTERN = r"^[0-9a-f]{4,32}$"


class YearSpan(LeverModel):
    """Simulated years, both ends included."""

    start: int
    end: int

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, year: int) -> int:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"year {year} is outside the range the dashboard's world can "
                             f"simulate: {FIRST_YEAR}-{LAST_YEAR}")
        return year

    @model_validator(mode="after")
    def _ordered(self) -> YearSpan:
        if self.end < self.start:
            raise ValueError("years 'end' is before 'start'")
        return self

    def years(self) -> list[int]:
        """The years as a list."""
        return list(range(self.start, self.end + 1))


class RunRequest(LeverModel):
    """Run a bundled scenario, optionally with levers and a year range.

    ``scenario`` is the name of a bundled scenario - never a path. ``years`` defaults to the
    scenario's own range; ``levers`` left out keep the scenario's settings.
    """

    scenario: str = Field(pattern=NAME_PATTERN, max_length=64)
    years: YearSpan | None = None
    levers: Levers = Field(default_factory=Levers)
