"""Per-year inputs of the market: capacities, demand, scrap and stockpile state.

Everything that changes between years (or ensemble draws) lives here, as plain tables; the
market LP only copies them into bounds, costs and right-hand sides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

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
    capacity = pd.Series({f.id: f.capacity_in(year) for f in world.facilities}, dtype=float)
    factors = {s.id: growth_factor(world, s.id, year) for s in world.sectors}
    magnet_rows = []
    oxide_rows = []
    for row in world.demand:
        quantity = row.tonnes * factors[row.sector]
        if row.element is None:
            magnet_rows.append({"region": row.region, "sector": row.sector, "quantity": quantity})
        else:
            oxide_rows.append({"region": row.region, "sector": row.sector,
                               "element": row.element, "quantity": quantity})
    magnet = pd.DataFrame(magnet_rows, columns=["region", "sector", "quantity"])
    oxide = pd.DataFrame(oxide_rows, columns=["region", "sector", "element", "quantity"])
    stock = pd.DataFrame(
        [
            {"region": s.region, "element": s.element, "origin": "china", "level": s.initial_t,
             "capacity": s.capacity_t, "release_price": DEFAULT_RELEASE_PRICE, "fill_min": 0.0,
             "fill_max": max(0.0, s.capacity_t - s.initial_t)}
            for s in world.stockpiles
        ],
        columns=["region", "element", "origin", "level", "capacity", "release_price", "fill_min",
                 "fill_max"],
    )
    substitution = pd.Series(
        {
            s.id: (s.substitution.max_share
                   if s.substitution and year >= s.substitution.available_from else 0.0)
            for s in world.sectors
        },
        dtype=float,
    )
    substitution_cost = pd.Series(
        {s.id: s.substitution.cost_usd_per_kg for s in world.sectors if s.substitution},
        dtype=float,
    )
    scrap = pd.DataFrame(columns=["region", "element", "origin", "t"])
    return YearInputs(year, capacity, magnet.groupby(["region", "sector"], as_index=False).sum(),
                      oxide.groupby(["region", "sector", "element"], as_index=False).sum(),
                      scrap, stock, substitution, substitution_cost)
