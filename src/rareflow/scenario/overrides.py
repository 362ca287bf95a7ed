"""Deterministic changes to world inputs: facility schedules and demand growth."""

from __future__ import annotations

from pydantic import Field, model_validator

from rareflow.model.facilities import Facility, FacilityStatus
from rareflow.model.numbers import Real
from rareflow.scenario.base import StrictModel, located_error
from rareflow.scenario.names import Identifier, Reference


class FacilityOverride(StrictModel):
    """Changes to one facility: delay, new start or nameplate, capacity factor, cancellation.

    ``delay_years`` shifts the whole schedule (negative = earlier; None = use the status rule);
    ``capacity_factor`` scales every year's capacity; ``cancelled`` removes the facility.
    """

    delay_years: int | None = Field(default=None, ge=-10, le=30)
    start_year: int | None = Field(default=None, ge=1950, le=2100)
    nameplate_t: Real | None = Field(default=None, ge=0)
    capacity_factor: Real = Field(default=1.0, ge=0, le=10)
    cancelled: bool = False

    @model_validator(mode="after")
    def _cancelled_alone(self) -> FacilityOverride:
        if self.cancelled:
            others = [name for name in self.model_fields_set - {"cancelled"}
                      if getattr(self, name) != type(self).model_fields[name].default]
            if others:
                raise located_error(
                    "cancelled",
                    f"a cancelled facility produces nothing, so {', '.join(sorted(others))} "
                    "would be ignored; drop them or 'cancelled'",
                )
        return self


class Overrides(StrictModel):
    """Deterministic overrides of world data for this scenario.

    * ``facilities``: per facility id, a :class:`FacilityOverride`.
    * ``delay_years_by_status``: start delay (years) applied to every facility with that status
      unless the facility has its own ``delay_years``.
    * ``demand_growth``: per sector, a growth schedule ``{year: annual rate}`` replacing the
      sector's own (each rate applies from its year on, like ``Sector.growth``).
    """

    facilities: dict[Identifier, FacilityOverride] = Field(default_factory=dict)
    delay_years_by_status: dict[FacilityStatus, int] = Field(default_factory=dict)
    demand_growth: dict[Identifier, dict[int, Real]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _plausible(self) -> Overrides:
        if "closed" in self.delay_years_by_status:
            raise located_error(
                "delay_years_by_status.closed",
                "closed facilities produce nothing, so a delay for them would be ignored",
            )
        for status, delay in self.delay_years_by_status.items():
            if not -10 <= delay <= 30:
                raise located_error(f"delay_years_by_status.{status}", "delay must be -10..30")
        for sector, schedule in self.demand_growth.items():
            for year, rate in schedule.items():
                if not -0.9 <= rate <= 2.0:
                    raise located_error(
                        f"demand_growth.{sector}.{year}", f"growth rate {rate} is not in -0.9..2"
                    )
        return self

    def delay_for(self, facility: Facility) -> int:
        """Start delay (years) this scenario sets for ``facility``."""
        own = self.facilities.get(facility.id)
        if own is not None and own.delay_years is not None:
            return own.delay_years
        return self.delay_years_by_status.get(facility.status, 0)

    def references(self) -> list[Reference]:
        """Facility and sector ids named here (paths relative to ``overrides``)."""
        return [
            *(Reference("facility", fid, ("facilities", fid)) for fid in self.facilities),
            *(Reference("sector", sid, ("demand_growth", sid)) for sid in self.demand_growth),
        ]
