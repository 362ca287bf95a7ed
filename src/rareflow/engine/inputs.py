"""Per-year inputs of the market: capacities, demand, scrap and stockpile state.

Everything that changes between years (or ensemble draws) lives here, as plain tables; the
market LP only copies them into bounds, costs and right-hand sides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rareflow.engine.grouping import GroupSum, fresh_copy
from rareflow.engine.labels import labelled_series
from rareflow.engine.schedule import Schedule
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
    * ``substitution_cost``: sector → USD per kg of magnet demand the substitute replaces;
    * ``inventory``: opening stock of buyers' and traders' inventories per ``inventory_sell``
      column of the market (t REO), carried from the previous year's closing stock; None in a
      first year, where stocks open at their target (:mod:`rareflow.engine.inventory`).
    """

    year: int
    capacity: pd.Series
    magnet_demand: pd.DataFrame
    oxide_demand: pd.DataFrame
    scrap: pd.DataFrame
    stock: pd.DataFrame
    substitution_available: pd.Series
    substitution_cost: pd.Series
    inventory: np.ndarray | None = None

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
    bit-for-bit those of the per-year ``groupby``). An ensemble builds one of these per draw,
    on a new world with drawn numbers: the layouts, which depend only on the world's keys
    (region, sector, element names), are shared between worlds with the same keys; every
    number is read from the world at hand. Every call returns fresh tables.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._magnet = _DemandTable(world, magnet=True)
        self._oxide = _DemandTable(world, magnet=False)
        self._stock = _StockTable(world)
        substitutes = [s for s in world.sectors if s.substitution]
        self._substitution_cost = labelled_series(
            [s.id for s in substitutes],
            [s.substitution.cost_usd_per_kg for s in substitutes if s.substitution])
        self._sectors = [s.id for s in world.sectors]
        self._substitution_from = [(s.substitution.max_share, s.substitution.available_from)
                                   if s.substitution else (0.0, None) for s in world.sectors]
        self._growth = _GrowthPath(world)
        self._scrap = pd.DataFrame(columns=["region", "element", "origin", "t"])

    def __call__(self, year: int, capacity: pd.Series | None = None, *,
                 scrap: pd.DataFrame | None = None,
                 stock_level: np.ndarray | None = None) -> YearInputs:
        """The default inputs of ``year``.

        ``capacity`` replaces the scheduled capacities and ``scrap`` the (empty) scrap table;
        ``stock_level`` gives the stockpiles' opening levels (one per row of
        :meth:`stock_keys`, instead of the initial levels), with ``fill_max = max(0, capacity
        − level)``, as :class:`~rareflow.engine.carried.StockCarry` carries them.
        """
        world = self.world
        if capacity is None:
            capacity = Schedule().capacity(world, year)
        factors = self._growth(year)
        substitution = labelled_series(self._sectors, [
            share if start is not None and year >= start else 0.0
            for share, start in self._substitution_from
        ])
        return YearInputs(
            year, capacity, self._magnet.table(factors), self._oxide.table(factors),
            fresh_copy(self._scrap) if scrap is None else scrap,
            self._stock.at(stock_level), substitution, fresh_copy(self._substitution_cost))

    def magnet_keys(self) -> pd.DataFrame:
        """The (region, sector) rows of every year's magnet demand table, in table order."""
        return self._magnet.template[["region", "sector"]].reset_index(drop=True)

    def magnet_key_pairs(self) -> tuple[tuple[str, str], ...]:
        """The rows of :meth:`magnet_keys` as (region, sector) pairs."""
        return self._magnet.keys

    def magnet_quantity(self, year: int) -> np.ndarray:
        """The ``quantity`` column of the magnet demand table of ``year`` (t magnet)."""
        return self._magnet.quantity(self._growth(year))

    def stock_keys(self) -> tuple[list[str], list[str]]:
        """The ``region`` and ``element`` columns of the stockpile table, as lists."""
        return self._stock.regions, self._stock.elements


class _GrowthPath:
    """:func:`growth_factor` of every sector, each year's factor kept for the next year's.

    From the base year on, ``growth_factor`` multiplies ``1 + rate`` year after year, so the
    factor of a year is the previous year's factor times one more term: the same operations in
    the same order. Years before the base year are computed as ``growth_factor`` does.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.base = world.provenance.base_year
        self._factors: dict[int, dict[str, float]] = {
            self.base: {s.id: 1.0 for s in world.sectors}}

    def __call__(self, year: int) -> dict[str, float]:
        """Growth factor of every sector in ``year`` relative to the base year."""
        known = self._factors.get(year)
        if known is not None:
            return known
        if year < self.base:
            return {s.id: growth_factor(self.world, s.id, year) for s in self.world.sectors}
        last = max(y for y in self._factors if y < year)
        factors = self._factors[last]
        for y in range(last + 1, year + 1):
            factors = {s.id: factors[s.id] * (1.0 + s.growth_rate(y))
                       for s in self.world.sectors}
            self._factors[y] = factors
        return factors


class _DemandTable:
    """The magnet (or oxide) demand table: demand rows grown by sector, summed per key."""

    def __init__(self, world: World, magnet: bool) -> None:
        rows = [row for row in world.demand if (row.element is None) == magnet]
        self.tonnes = np.array([row.tonnes for row in rows], dtype=float)
        self.sectors = [row.sector for row in rows]
        layout = _demand_layout(tuple((row.region, row.sector, row.element) for row in rows),
                                magnet)
        self.template, self.sum, self.keys = layout.template, layout.sum, layout.keys

    def quantity(self, factors: dict[str, float]) -> np.ndarray:
        """The summed quantities for the sectors' growth ``factors`` (relative to the base year)."""
        growth = np.array([factors[sector] for sector in self.sectors], dtype=float)
        return self.sum(self.tonnes * growth)

    def table(self, factors: dict[str, float]) -> pd.DataFrame:
        """The table for the sectors' growth ``factors`` (relative to the base year)."""
        table = fresh_copy(self.template)
        if len(self.tonnes):
            table["quantity"] = self.quantity(factors)
        return table


@dataclass(frozen=True)
class _DemandLayout:
    """A demand table's grouped layout: zero-quantity template, grouping, (region, sector) keys.

    Shared between worlds with the same demand keys: never modified (the template is copied).
    """

    template: pd.DataFrame
    sum: GroupSum
    keys: tuple[tuple[str, str], ...]


@functools.lru_cache(maxsize=16)
def _demand_layout(keys: tuple[tuple[str, str, str | None], ...], magnet: bool) -> _DemandLayout:
    """The layout of the demand table of rows with (region, sector, element) ``keys``."""
    columns = ["region", "sector"] if magnet else ["region", "sector", "element"]
    frame = pd.DataFrame([{"region": region, "sector": sector, "element": element,
                           "quantity": 0.0} for region, sector, element in keys],
                         columns=[*columns, "quantity"])
    grouped = frame.groupby(columns, as_index=False)
    template = grouped.sum()
    codes = grouped.ngroup().to_numpy(dtype=float)
    group_sum = GroupSum(np.where(np.isnan(codes), -1, codes).astype(np.intp), len(template))
    pairs = tuple(zip(template["region"].tolist(), template["sector"].tolist(), strict=True))
    return _DemandLayout(template, group_sum, pairs)


_STOCK_COLUMNS = ["region", "element", "origin", "level", "capacity", "release_price",
                  "fill_min", "fill_max"]


class _StockTable:
    """The stockpile table: its base-year form, and the same with other opening levels."""

    def __init__(self, world: World) -> None:
        stocks = world.stockpiles
        self.regions = [s.region for s in stocks]
        self.elements: list[str] = [s.element for s in stocks]
        self.capacity = np.array([s.capacity_t for s in stocks], dtype=float)
        initial = pd.DataFrame(
            [
                {"region": s.region, "element": s.element, "origin": "china",
                 "level": s.initial_t, "capacity": s.capacity_t,
                 "release_price": DEFAULT_RELEASE_PRICE, "fill_min": 0.0,
                 "fill_max": max(0.0, s.capacity_t - s.initial_t)}
                for s in stocks
            ],
            columns=_STOCK_COLUMNS,
        )
        if stocks:
            # The two columns replaced every year get blocks of their own: replacing a whole
            # block is cheaper than splitting the float block each year.
            initial["level"] = initial["level"].to_numpy(copy=True)
            initial["fill_max"] = initial["fill_max"].to_numpy(copy=True)
        self.initial = initial

    def at(self, level: np.ndarray | None) -> pd.DataFrame:
        """The table with opening ``level`` per row and ``fill_max = max(0, capacity − level)``.

        ``None``: the base-year table. Copies are shallow: pandas copies on write, so changing
        a returned table never changes another.
        """
        table = fresh_copy(self.initial)
        if level is not None:
            table["level"] = level
            table["fill_max"] = np.maximum(0.0, self.capacity - level)
        return table
