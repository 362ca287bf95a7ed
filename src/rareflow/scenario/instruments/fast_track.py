"""``fast_track``: shorter permitting for projects in a region."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rareflow.model.elements import Stage
from rareflow.model.facilities import FacilityStatus
from rareflow.model.numbers import Real
from rareflow.scenario.dates import DateOrYear, Span, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Area, Reference


class FastTrack(InstrumentBase):
    """Accelerated permitting (e.g. FAST-41, Defense Production Act priority) in ``region``.

    Meaning: projects located in ``region`` (a region id or group) whose status is in
    ``applies_to`` - and whose stage is in ``stages``, if given - are permitted
    ``lead_time_reduction_years`` faster.

    How it acts on the market: the engine moves each covered facility's start year earlier by the
    reduction (applied after any sampled start delay, never earlier than the year after ``start``
    and never below zero delay for operating plants); capacity then follows the facility's ramp.
    """

    type: Literal["fast_track"] = "fast_track"
    region: Area
    lead_time_reduction_years: Real = Field(gt=0, le=10)
    applies_to: tuple[FacilityStatus, ...] = Field(
        default=("announced", "under_construction"), min_length=1
    )
    stages: tuple[Stage, ...] | None = Field(default=None, description="None = every stage")
    start: DateOrYear | None = Field(default=None, description="when the programme begins")

    def window(self) -> Span:
        """From ``start`` (if given) on."""
        return (None if self.start is None else start_date(self.start)), None

    def references(self) -> list[Reference]:
        """The region or group."""
        return [Reference("area", self.region, ("region",))]
