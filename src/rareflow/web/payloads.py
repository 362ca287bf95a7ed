"""Request models of the dashboard API: strict, bounded, no paths and no code."""

from __future__ import annotations

from pydantic import Field, model_validator

from rareflow.scenario.scenario import NAME_PATTERN
from rareflow.web.levers import FIRST_YEAR, LAST_YEAR, LeverModel, Levers

#: Run ids as the store makes them (hex), or a unique prefix of at least four characters.
RUN_ID_PATTERN = r"^[0-9a-f]{4,32}$"


class YearSpan(LeverModel):
    """Simulated years, both ends included."""

    start: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    end: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)

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
