"""Facilities: mines, concentrators, separation plants, metal and magnet makers, recyclers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from rareflow.model.elements import Element, Stage
from rareflow.model.numbers import Real
from rareflow.model.sourced import Sourced

FacilityStatus = Literal["operating", "under_construction", "announced", "idle", "closed"]


class Facility(Sourced):
    """One facility (or an aggregate of a country's capacity at one stage).

    Units: ``nameplate_t`` is t REO per year for mining, concentration, separation, metal and
    recycling; t of magnet per year for the magnet stage. Capacity in a year is
    ``capacity_t[year]`` when given (step function: the latest anchor at or before the year),
    otherwise the nameplate scaled by a linear ramp from ``start_year`` over ``ramp_years``.
    ``min_utilisation`` > 0 makes the market run the facility at least at that share of the
    year's capacity (China's mining quotas are produced regardless of short-run prices).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    operator: str
    country: str
    stage: Stage
    status: FacilityStatus
    nameplate_t: Real = Field(ge=0, description="t/y at full ramp (t REO, or t magnet)")
    start_year: int = Field(ge=1950, le=2100, description="first year of output")
    ramp_years: int = Field(default=0, ge=0, le=15, description="years from start to nameplate")
    end_year: int | None = Field(default=None, description="last year of output, if any")
    capacity_t: dict[int, Real] = Field(
        default_factory=dict, description="explicit capacity anchors by year (t/y), step-wise"
    )
    deposit: str | None = Field(default=None, description="mined deposit (mining stage)")
    feeds: tuple[str, ...] = Field(
        default=(), description="deposit ids or deposit classes it can process ('*' = any)"
    )
    elements: tuple[Element, ...] | None = Field(
        default=None, description="elements it can separate or reduce; None = all"
    )
    purity_pct: Real | None = Field(default=None, ge=80, le=100, description="oxide purity")
    recovery: Real = Field(default=0.95, gt=0, le=1, description="mass yield of the step")
    unit_cost_usd_per_kg: Real = Field(
        ge=0,
        description="operating (cash) cost, USD per kg of the stage's throughput: REO mined, "
        "REO fed (concentration, separation, recycling), oxide reduced (metal) or magnet made",
    )
    min_utilisation: Real = Field(
        default=0.0, ge=0, le=1,
        description="share of the year's capacity that must run whatever the price (state "
        "production quotas); what the market does not take is stored or disposed of at a cost",
    )
    magnet_grades: tuple[str, ...] = Field(default=(), description="magnet grades it can make")
    mixed_heavy_feed: bool = Field(
        default=False,
        description="a separation plant that also refines mixed heavy rare-earth concentrate "
        "(SEG+HRE: Sm, Eu, Gd and the heavy rare earths that light-separation plants leave "
        "unseparated) into the elements it separates",
    )
    uses_chinese_technology: bool = Field(
        default=False, description="needs Chinese process technology (exposed to tech controls)"
    )

    @model_validator(mode="after")
    def _stage_fields(self) -> Facility:
        if any(value < 0 for value in self.capacity_t.values()):
            raise ValueError("capacity_t values must be non-negative")
        if self.stage == "mining" and not self.deposit:
            raise ValueError("a mining facility needs a 'deposit'")
        if self.stage in ("concentration", "separation") and not self.feeds:
            raise ValueError(f"a {self.stage} facility needs 'feeds'")
        if self.stage == "magnet" and not self.magnet_grades:
            raise ValueError("a magnet facility needs 'magnet_grades'")
        if self.mixed_heavy_feed and self.stage != "separation":
            raise ValueError("only a separation facility can take 'mixed_heavy_feed'")
        if self.end_year is not None and self.end_year < self.start_year:
            raise ValueError("end_year is before start_year")
        return self

    def capacity_in(self, year: int, delay_years: int = 0, ramp_scale: float = 1.0) -> float:
        """Capacity (t/y) available in ``year``, after shifting the schedule by ``delay_years``.

        ``ramp_scale`` stretches (> 1) or shortens (< 1) the ramp-up from start to nameplate.
        """
        if self.status == "closed":
            return 0.0
        start = self.start_year + delay_years
        if year < start or (self.end_year is not None and year > self.end_year + delay_years):
            return 0.0
        anchors = [y for y in self.capacity_t if y + delay_years <= year]
        if anchors:
            return self.capacity_t[max(anchors)]
        ramp_years = self.ramp_years * ramp_scale
        if ramp_years == 0:
            return self.nameplate_t
        fraction = min(1.0, (year - start + 1) / (ramp_years + 1))
        return self.nameplate_t * fraction


def capacities_in(facilities: Sequence[Facility], years: Sequence[int],
                  delay_years: Sequence[int], ramp_scale: Sequence[float]) -> np.ndarray:
    """:meth:`Facility.capacity_in` of every facility (rows) in every year (columns).

    ``delay_years`` and ``ramp_scale`` hold each facility's arguments. The same floating-point
    operations as ``capacity_in`` on arrays, so every value is bit-for-bit the method's (the
    years and delays are whole numbers, exact in floats); a ramp of −1 year, where the method
    divides by zero, is left to the method.
    """
    ramp_scales = np.asarray(ramp_scale, dtype=float)
    ramp = np.array([f.ramp_years for f in facilities], dtype=float) * ramp_scales
    if np.any(ramp + 1.0 == 0.0) or not all(isinstance(d, int) for d in delay_years):
        return np.array([[f.capacity_in(y, d, r) for y in years] for f, d, r in
                         zip(facilities, delay_years, ramp_scale, strict=True)], dtype=float)
    year = np.asarray(years, dtype=float)[None, :]
    delay = np.asarray(delay_years, dtype=float)[:, None]
    start = np.array([f.start_year for f in facilities], dtype=float)[:, None] + delay
    end = np.array([np.inf if f.end_year is None else f.end_year for f in facilities],
                   dtype=float)[:, None] + delay
    nameplate = np.array([f.nameplate_t for f in facilities], dtype=float)[:, None]
    fraction = np.minimum(1.0, (year - start + 1.0) / (ramp[:, None] + 1.0))
    value = np.where(ramp[:, None] == 0.0, nameplate, nameplate * fraction)
    anchored, anchor_value = _anchor_capacities(facilities, year, delay)
    value = np.where(anchored, anchor_value, value)
    running = (year >= start) & (year <= end)
    closed = np.array([f.status == "closed" for f in facilities], dtype=bool)[:, None]
    return np.where(running & ~closed, value, 0.0)


def _anchor_capacities(facilities: Sequence[Facility], year: np.ndarray,
                       delay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether a ``capacity_t`` anchor applies per facility and year, and its value.

    The applying anchor is the latest one with ``anchor + delay <= year``: with each facility's
    anchors in increasing order, the last of those reached.
    """
    shape = (len(facilities), year.shape[1])
    anchored = np.zeros(shape, dtype=bool)
    value = np.zeros(shape)
    entries = [(row, anchor, capacity) for row, facility in enumerate(facilities)
               for anchor, capacity in sorted(facility.capacity_t.items())]
    if not entries:
        return anchored, value
    rows = np.array([row for row, _, _ in entries], dtype=np.intp)
    anchors = np.array([anchor for _, anchor, _ in entries], dtype=float)
    capacities = np.array([capacity for _, _, capacity in entries], dtype=float)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    reached = (anchors[:, None] + delay[rows]) <= year
    count = np.add.reduceat(reached.astype(np.intp), starts, axis=0)
    owners = rows[starts]
    anchored[owners] = count > 0
    value[owners] = capacities[starts[:, None] + np.maximum(count - 1, 0)]
    return anchored, value
