"""A run's facility schedule: start delays, ramp-up stretch and capacity multipliers.

Capacity has one implementation, :meth:`Schedule.facility_capacities`, over arrays of
facilities and years. The year series a simulation reads (:meth:`Schedule.capacities`), the
one-year series (:meth:`Schedule.capacity`, also the default inputs' capacity) and one
facility's value with its schedule advanced (:meth:`Schedule.facility_capacity`, used by
fast-track policies) are all views of it, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rareflow.engine.labels import label_index, labelled_series
from rareflow.model.facilities import Facility, capacities_in
from rareflow.model.world import World


@dataclass(frozen=True)
class Schedule:
    """Per-facility start delays (years), ramp-up stretch and capacity multipliers for a run."""

    delays: dict[str, int] = field(default_factory=dict)
    capacity_factor: dict[str, float] = field(default_factory=dict)
    extra_capacity: dict[str, dict[int, float]] = field(default_factory=dict)
    ramp_factor: dict[str, float] = field(default_factory=dict)

    def capacity(self, world: World, year: int) -> pd.Series:
        """Capacity of every facility in ``year`` after delays and multipliers (t/y)."""
        return self.capacities(world, [year]).series(0)

    def capacities(self, world: World, years: Sequence[int]) -> ScheduledCapacity:
        """Capacity of every facility in each of ``years``, worked out at once (t/y)."""
        facilities = world.facilities
        return ScheduledCapacity([f.id for f in facilities],
                                 self.facility_capacities(facilities, years))

    def facility_capacity(self, facility: Facility, year: int, advance: float = 0.0) -> float:
        """Capacity of ``facility`` in ``year`` (t/y), its schedule ``advance`` years earlier."""
        return float(self.facility_capacities([facility], [year], [advance])[0, 0])

    def facility_capacities(self, facilities: Sequence[Facility], years: Sequence[int],
                            advance: Sequence[float] | None = None) -> np.ndarray:
        """Capacity (t/y) of each of ``facilities`` (rows) in each of ``years`` (columns).

        Per facility: ``capacity_in`` (see :func:`~rareflow.model.facilities.capacities_in`)
        with the facility's delay less its whole ``advance`` years, times ``1 − part`` (the
        fractional part of the advance), plus ``part`` times the schedule one year earlier
        where ``part`` is not zero; then times the capacity factor, plus the extra capacity.
        """
        ids = [f.id for f in facilities]
        delays = [self.delays.get(i, 0) for i in ids]
        ramps = [self.ramp_factor.get(i, 1.0) for i in ids]
        ahead = [0.0] * len(ids) if advance is None else list(advance)
        whole = [int(np.floor(a)) for a in ahead]
        part = np.array([a - w for a, w in zip(ahead, whole, strict=True)], dtype=float)
        shifted = [d - w for d, w in zip(delays, whole, strict=True)]
        value = (1.0 - part[:, None]) * capacities_in(facilities, years, shifted, ramps)
        fractional = part != 0
        if fractional.any():
            rows = np.flatnonzero(fractional).tolist()
            earlier = capacities_in([facilities[r] for r in rows], years,
                                    [shifted[r] - 1 for r in rows], [ramps[r] for r in rows])
            value[rows] += part[rows][:, None] * earlier
        factor = np.array([self.capacity_factor.get(i, 1.0) for i in ids], dtype=float)
        extra = np.zeros(value.shape)
        for row, facility_id in enumerate(ids):
            added = self.extra_capacity.get(facility_id)
            if added:
                extra[row] = [added.get(year, 0.0) for year in years]
        scheduled: np.ndarray = value * factor[:, None] + extra
        return scheduled


class ScheduledCapacity:
    """Facility capacities (t/y) over several years: ``values[facility, year position]``."""

    def __init__(self, facilities: list[str], values: np.ndarray) -> None:
        self.facilities = facilities
        self.values = values
        self._index = label_index(facilities)

    def series(self, position: int) -> pd.Series:
        """The capacity of every facility in the year at ``position``, as ``Schedule.capacity``."""
        if self._index is None:
            return labelled_series(self.facilities, self.values[:, position])
        return pd.Series(self.values[:, position].copy(), index=self._index, copy=False)
