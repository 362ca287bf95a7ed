"""Per-year inputs of the market: capacities, demand, scrap and stockpile state.

Everything that changes between years (or ensemble draws) lives here, as plain tables; the
market LP only copies them into bounds, costs and right-hand sides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rareflow.engine.grouping import GroupSum
from rareflow.model.world import World

#: Reservation price (USD/kg) above which strategic stocks release oxide when no stockpile
#: policy sets one. Assumption: stocks are held for emergencies, so by default they are only
#: drawn when oxide is worth three times a high 2024 price level.
DEFAULT_RELEASE_PRICE = 3000.0


@dataclass(frozen=True)
class YearInputs:
    """All year-varying inputs of one market solve.

    Tables (t = tonnes; t REO unless noted):

    * ``capacity``: facility → t/y;
    * ``magnet_demand``: region, sector, quantity (t magnet);
    * ``oxide_demand``: region, sector, element, quantity (t REO);
    * ``scrap``: region, element, origin, t (end-of-life scrap collected, t REO);
    * ``stock``: region, element, origin, level, capacity, release_price, fill_min, fill_max;
    * ``substitution_available``: sector → share of demand a substitute may serve this year;
    * ``substitution_cost``: sector → USD per kg of magnet demand the substitute replaces.
    """

    year: int
    capacity: pd.Series
    magnet_demand: pd.DataFrame
    oxide_demand: pd.DataFrame
    scrap: pd.DataFrame
    stock: pd.DataFrame
    substitution_available: pd.Series
    substitution_cost: pd.Series

    def with_capacity(self, capacity: pd.Series) -> YearInputs:
        """A copy with ``capacity`` replaced."""
        return replace(self, capacity=capacity)


def growth_factor(world: World, sector_id: str, year: int) -> float:
    """Demand of ``sector_id`` in ``year`` relative to the base year, compounding growth rates."""
    base = world.provenance.base_year
    sector = world.sector(sector_id)
    factor = 1.0
    for y in range(base + 1, year + 1):
        factor *= 1.0 + sector.growth_rate(y)
    for y in range(year + 1, base + 1):
        factor /= 1.0 + sector.growth_rate(y)
    return factor


def default_inputs(world: World, year: int) -> YearInputs:
    """Inputs for ``year`` from the world data alone: scheduled capacity, grown demand, stocks."""
    return DefaultInputs(world)(year)


class DefaultInputs:
    """:func:`default_inputs` for one world, its tables' layout worked out once.

    A simulation asks for the default inputs of every year; the demand tables' grouping, the
    stockpile table and the substitution costs do not depend on the year, so only the
    quantities are recomputed (see :mod:`rareflow.engine.grouping` for why the sums stay
    bit-for-bit those of the per-year ``groupby``). Every call returns fresh tables.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._magnet = _DemandTable(world, magnet=True)
        self._oxide = _DemandTable(world, magnet=False)
        self._stock = pd.DataFrame(
            [
                {"region": s.region, "element": s.element, "origin": "china",
                 "level": s.initial_t, "capacity": s.capacity_t,
                 "release_price": DEFAULT_RELEASE_PRICE, "fill_min": 0.0,
                 "fill_max": max(0.0, s.capacity_t - s.initial_t)}
                for s in world.stockpiles
            ],
            columns=["region", "element", "origin", "level", "capacity", "release_price",
                     "fill_min", "fill_max"],
        )
        self._substitution_cost = pd.Series(
            {s.id: s.substitution.cost_usd_per_kg for s in world.sectors if s.substitution},
            dtype=float,
        )
        self._scrap = pd.DataFrame(columns=["region", "element", "origin", "t"])

    def __call__(self, year: int, capacity: pd.Series | None = None) -> YearInputs:
        """The default inputs of ``year`` (``capacity`` replaces the scheduled capacities)."""
        world = self.world
        if capacity is None:
            capacity = pd.Series({f.id: f.capacity_in(year) for f in world.facilities},
                                 dtype=float)
        factors = {s.id: growth_factor(world, s.id, year) for s in world.sectors}
        substitution = pd.Series(
            {
                s.id: (s.substitution.max_share
                       if s.substitution and year >= s.substitution.available_from else 0.0)
                for s in world.sectors
            },
            dtype=float,
        )
        return YearInputs(year, capacity, self._magnet.table(factors),
                          self._oxide.table(factors), self._scrap.copy(), self._stock.copy(),
                          substitution, self._substitution_cost.copy())


class _DemandTable:
    """The magnet (or oxide) demand table: demand rows grown by sector, summed per key."""

    def __init__(self, world: World, magnet: bool) -> None:
        keys = ["region", "sector"] if magnet else ["region", "sector", "element"]
        rows = [row for row in world.demand if (row.element is None) == magnet]
        self.tonnes = np.array([row.tonnes for row in rows], dtype=float)
        self.sectors = [row.sector for row in rows]
        frame = pd.DataFrame([{"region": row.region, "sector": row.sector,
                               "element": row.element, "quantity": 0.0} for row in rows],
                             columns=[*keys, "quantity"])
        grouped = frame.groupby(keys, as_index=False)
        #: The grouped table with zero quantities: key columns, order and dtypes of the result.
        self.template = grouped.sum()
        codes = grouped.ngroup().to_numpy(dtype=float)
        self.sum = GroupSum(np.where(np.isnan(codes), -1, codes).astype(np.intp),
                            len(self.template))

    def table(self, factors: dict[str, float]) -> pd.DataFrame:
        """The table for the sectors' growth ``factors`` (relative to the base year)."""
        table = self.template.copy()
        if len(self.tonnes):
            growth = np.array([factors[sector] for sector in self.sectors], dtype=float)
            table["quantity"] = self.sum(self.tonnes * growth)
        return table
