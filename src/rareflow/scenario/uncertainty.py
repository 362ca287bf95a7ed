"""The ``uncertainty:`` section: distributions for inputs that ensembles draw.

Every entry is a distribution (see :mod:`rareflow.scenario.distributions`). :meth:`Uncertainty.
distributions` flattens them into named entries (``start_delay_years.by_status.announced``...),
and :meth:`Uncertainty.sample` draws them all, in that order, from one generator.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from rareflow.model.facilities import FacilityStatus
from rareflow.scenario.base import StrictModel, located_error
from rareflow.scenario.distributions import Bernoulli, Distribution
from rareflow.scenario.names import Identifier, Reference

DistributionType = Distribution


def _require_within(dist: DistributionType, low: float, high: float, at: str, what: str) -> None:
    lo, hi = dist.bounds()
    if lo < low or hi > high:
        raise located_error(
            at, f"{what} must stay within {low:g}..{high:g}; this distribution spans {lo:g}..{hi:g}"
            " (bound it with low/high or pick another distribution)",
        )


class FacilityDistributions(StrictModel):
    """Distributions per facility id and per facility status (a facility's own entry wins)."""

    by_facility: dict[Identifier, Distribution] = Field(default_factory=dict)
    by_status: dict[FacilityStatus, Distribution] = Field(default_factory=dict)

    def for_facility(self, facility_id: str, status: str) -> DistributionType | None:
        """The distribution that applies to a facility, if any."""
        own = self.by_facility.get(facility_id)
        return own if own is not None else self.by_status.get(status)  # type: ignore[call-overload]

    def items(self, prefix: str) -> list[tuple[str, DistributionType]]:
        """Named entries, ``prefix.by_facility.<id>`` then ``prefix.by_status.<status>``."""
        return [
            *((f"{prefix}.by_facility.{key}", d) for key, d in self.by_facility.items()),
            *((f"{prefix}.by_status.{key}", d) for key, d in self.by_status.items()),
        ]


class GrowthUncertainty(StrictModel):
    """Demand growth of a sector: either the annual ``rate`` itself or a ``delta`` added to it."""

    rate: Distribution | None = None
    delta: Distribution | None = None

    @model_validator(mode="after")
    def _one(self) -> GrowthUncertainty:
        if (self.rate is None) == (self.delta is None):
            raise ValueError("give exactly one of 'rate' or 'delta'")
        if self.rate is not None:
            _require_within(self.rate, -0.9, 2.0, "rate", "a growth rate")
        if self.delta is not None:
            _require_within(self.delta, -1.0, 1.0, "delta", "a growth-rate change")
        return self


class PolicyTiming(StrictModel):
    """Timing uncertainty of one policy or a set of policies that move together.

    Keyed in ``policy_timing`` by a policy id, or by a label when ``policies`` lists the ids
    that share one draw (e.g. all suspended October 2025 measures return together or not at
    all). ``applies``: probability that the policies apply - for suspended policies, that they
    return when the suspension ends. ``shift_months``: months by which their start (or the end
    of their suspension) moves later. The engine applies a draw with
    ``InstrumentBase.with_timing``.
    """

    policies: tuple[Identifier, ...] = Field(default=(), description="default: the key")
    applies: Bernoulli | None = None
    shift_months: Distribution | None = None

    @model_validator(mode="after")
    def _some(self) -> PolicyTiming:
        if self.applies is None and self.shift_months is None:
            raise ValueError("give 'applies' and/or 'shift_months'")
        if self.shift_months is not None:
            _require_within(self.shift_months, -120, 240, "shift_months", "a shift in months")
        return self

    def policy_ids(self, key: str) -> tuple[str, ...]:
        """Ids of the policies this entry moves (``policies``, or the entry's key)."""
        return self.policies or (key,)


class RecyclingUncertainty(StrictModel):
    """End-of-life ``collection_rate`` per sector and the recyclers' ``recovery_yield`` (0..1)."""

    collection_rate: dict[Identifier, Distribution] = Field(default_factory=dict)
    recovery_yield: Distribution | None = None

    @model_validator(mode="after")
    def _shares(self) -> RecyclingUncertainty:
        for sector, dist in self.collection_rate.items():
            _require_within(dist, 0.0, 1.0, f"collection_rate.{sector}", "a collection rate")
        if self.recovery_yield is not None:
            _require_within(self.recovery_yield, 0.0, 1.0, "recovery_yield", "a recovery yield")
        return self


class Uncertainty(StrictModel):
    """Uncertain inputs of a scenario, drawn independently in each ensemble member.

    * ``start_delay_years``: years added to a facility's start (by facility or status).
    * ``ramp_up_factor``: multiplier on a facility's ``ramp_years`` (1 = as planned, >= 0).
    * ``demand_growth``: per sector, the annual growth rate or a change to it.
    * ``policy_timing``: per policy id, whether it applies/returns and how late.
    * ``recycling``: collection rates by sector and the recovery yield.
    """

    start_delay_years: FacilityDistributions = Field(default_factory=FacilityDistributions)
    ramp_up_factor: FacilityDistributions = Field(default_factory=FacilityDistributions)
    demand_growth: dict[Identifier, GrowthUncertainty] = Field(default_factory=dict)
    policy_timing: dict[Identifier, PolicyTiming] = Field(default_factory=dict)
    recycling: RecyclingUncertainty = Field(default_factory=RecyclingUncertainty)

    @model_validator(mode="after")
    def _ranges(self) -> Uncertainty:
        for name, dist in self.start_delay_years.items("start_delay_years"):
            _require_within(dist, -10, 30, name, "a start delay in years")
        for name, dist in self.ramp_up_factor.items("ramp_up_factor"):
            _require_within(dist, 0.0, math.inf, name, "a ramp-up factor")
        return self

    def distributions(self) -> dict[str, DistributionType]:
        """Every distribution under a dotted name, in declaration order."""
        named: dict[str, DistributionType] = {}
        named.update(self.start_delay_years.items("start_delay_years"))
        named.update(self.ramp_up_factor.items("ramp_up_factor"))
        for sector, growth in self.demand_growth.items():
            for kind, dist in (("rate", growth.rate), ("delta", growth.delta)):
                if dist is not None:
                    named[f"demand_growth.{sector}.{kind}"] = dist
        for policy, timing in self.policy_timing.items():
            if timing.applies is not None:
                named[f"policy_timing.{policy}.applies"] = timing.applies
            if timing.shift_months is not None:
                named[f"policy_timing.{policy}.shift_months"] = timing.shift_months
        for sector, dist in self.recycling.collection_rate.items():
            named[f"recycling.collection_rate.{sector}"] = dist
        if self.recycling.recovery_yield is not None:
            named["recycling.recovery_yield"] = self.recycling.recovery_yield
        return named

    def sample(self, rng: np.random.Generator) -> dict[str, float]:
        """One draw of every uncertain input, keyed as in :meth:`distributions`."""
        return {name: dist.sample(rng) for name, dist in self.distributions().items()}

    def references(self) -> list[Reference]:
        """Facility and sector ids named here (paths relative to ``uncertainty``)."""
        refs: list[Reference] = []
        for section in ("start_delay_years", "ramp_up_factor"):
            group: FacilityDistributions = getattr(self, section)
            refs += [
                Reference("facility", f, (section, "by_facility", f)) for f in group.by_facility
            ]
        refs += [Reference("sector", s, ("demand_growth", s)) for s in self.demand_growth]
        refs += [
            Reference("sector", s, ("recycling", "collection_rate", s))
            for s in self.recycling.collection_rate
        ]
        return refs
