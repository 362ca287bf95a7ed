"""Multi-year myopic simulation: solve the market year after year, carrying state forward.

State carried between years: magnets in use (a dynamic stock model per region × sector whose
end-of-life outflow, times the collection rate, becomes recycling feed), strategic stockpile
levels, buyers' and traders' inventories, and the previous year's prices (used by policies
such as price floors). Capacity follows each facility's schedule (start year, ramp-up, delays);
demand grows per sector.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.carried import GridLookup, ScrapTable, StockCarry, scrap_layout
from rareflow.engine.grouping import GroupSum, fresh_copy
from rareflow.engine.inputs import DefaultInputs, YearInputs
from rareflow.engine.market import Adjustments, MarketModel, Solution
from rareflow.engine.network import Network, build_network
from rareflow.engine.pythontext import python_text
from rareflow.engine.results import to_dataset
from rareflow.engine.schedule import Schedule
from rareflow.engine.stacking import concat_years
from rareflow.engine.stock import MagnetStock, NormalLifetime, historic_inflows
from rareflow.model.results_contract import VARIABLES
from rareflow.model.world import World
from rareflow.version import __version__

#: Years of assumed history used to build the stock of magnets in use at the base year.
HISTORY_YEARS = 30
#: Assumed growth of magnet inflow before the base year (≈ world NdFeB output growth of
#: 6–8 %/y over 2005–2024; assumption — no single source covers the whole period).
HISTORIC_GROWTH = 0.07



class PolicyProgram(Protocol):
    """How a scenario's policies act on the market (implemented in ``rareflow.policy``).

    ``declare`` adds policy rows (quotas, caps, targets) to the network before the LP is built;
    ``adjust`` changes a year's inputs and returns bounds/cost adjustments; ``account`` sees each
    solved year (and may add to its dataset); ``finish`` adds outcomes kept for the whole run
    (e.g. ``fiscal_cost`` by year) to the joined dataset.
    """

    def declare(self, network: Network) -> None:
        """Add policy rows and coefficients to ``network.lp`` (before the LP is built)."""

    def adjust(
        self, inputs: YearInputs, state: SimulationState
    ) -> tuple[YearInputs, Adjustments | None]:
        """Return the year's adjusted inputs and policy adjustments."""

    def account(self, result: xr.Dataset, state: SimulationState) -> xr.Dataset:
        """Return ``result`` with policy outcomes added."""

    def finish(self, result: xr.Dataset) -> xr.Dataset:
        """Return the run's joined dataset with per-run policy outcomes added."""


@dataclass
class SimulationState:
    """What the simulator carries from one year to the next.

    ``previous`` is the last solved year's result; ``solution`` the raw LP solution of the year
    just solved (set before ``PolicyProgram.account``, for policies that account from column
    values, e.g. a floor's subsidised volume per facility).
    """

    year: int
    previous: xr.Dataset | None = None
    solution: Solution | None = None


class MagnetsInUse:
    """Dynamic stock of magnets in use per (region, sector), yielding end-of-life scrap.

    The keys are the rows of the magnet demand table (the same every year). An ensemble builds
    one per draw: lifetimes, collection rates and base-year demand are read from the world at
    hand; only layouts that depend on names alone (which content rows a key's scrap comes from,
    how scrap rows group) are shared between worlds.
    """

    def __init__(self, world: World, years: list[int],
                 inputs: DefaultInputs | None = None) -> None:
        self.world = world
        self.years = years
        self._inputs = inputs or DefaultInputs(world)
        pairs = self._inputs.magnet_key_pairs()
        self._regions = [region for region, _ in pairs]
        self._sectors = [sector for _, sector in pairs]
        sectors = {s.id: s for s in world.sectors if s.kind == "magnet"}
        keyed = [sectors[s] for s in self._sectors]
        mean = np.array([s.lifetime_mean_years for s in keyed], dtype=float)
        sd = np.array([max(s.lifetime_sd_years, 1e-6) for s in keyed], dtype=float)
        self.collection = np.array([s.collection_rate for s in keyed], dtype=float)
        base_quantity = self._inputs.magnet_quantity(world.provenance.base_year)
        history = historic_inflows(np.where(np.isnan(base_quantity), 0.0, base_quantity),
                                   HISTORIC_GROWTH, HISTORY_YEARS)
        self.stock = MagnetStock(len(years), NormalLifetime(mean, sd),
                                 shape=(len(pairs),), past_inflows=history)
        self._content = _content_values(world)
        self._scrap = ScrapTable(
            scrap_layout(pairs, self._content.layout.keys, world.china), self._content.values)
        self._served = GridLookup(("region", "sector"))
        # Flat cell of each key in the (region, sector) grid of the results (−1: not in it).
        region = {r: i for i, r in enumerate(world.region_ids)}
        sector = {s.id: i for i, s in enumerate(world.sectors)}
        self._grid_shape = (len(region), len(sector))
        self._grid_cell = np.array(
            [region[r] * len(sector) + sector[s] if r in region and s in sector else -1
             for r, s in zip(self._regions, self._sectors, strict=True)], dtype=np.intp)

    @functools.cached_property
    def keys(self) -> pd.DataFrame:
        """The (region, sector) keys: the base year's magnet demand table without quantities."""
        return self._inputs.magnet_keys()

    @functools.cached_property
    def content(self) -> pd.DataFrame:
        """T REO of each element per t of a sector's magnets: see :func:`content_per_tonne`."""
        return self._content.table()

    def scrap(self, index: int) -> pd.DataFrame:
        """End-of-life scrap collected in year ``index`` (t REO by region, element, origin)."""
        outflow = self.stock.outflow_from_past(index) * self.collection
        return self._scrap.table(outflow)

    def record(self, index: int, served: xr.DataArray) -> None:
        """Add the year's magnets put into use (served demand, t magnet) as a new cohort.

        ``served`` is looked up at every key; a key it lacks (or a NaN) puts nothing into use.
        """
        values = self._served(served, self._regions, self._sectors)
        self.stock.add_inflow(index, np.where(np.isnan(values), 0.0, values))

    def record_year(self, index: int, result: xr.Dataset) -> None:
        """:meth:`record` of the ``served`` demand of a one-year result dataset."""
        values = self._served.year_values(result, "served", self._regions, self._sectors)
        self.stock.add_inflow(index, np.where(np.isnan(values), 0.0, values))

    def in_use(self, index: int) -> np.ndarray:
        """Magnets in use at the end of year ``index`` (t magnet, per key)."""
        return self.stock.stock(index)

    def in_use_grid(self, index: int) -> np.ndarray:
        """Magnets in use at the end of year ``index`` over (world regions × world sectors).

        Pairs without magnet demand (oxide sectors, regions without a sector's demand) hold 0.
        """
        grid = np.zeros(self._grid_shape[0] * self._grid_shape[1])
        known = self._grid_cell >= 0
        grid[self._grid_cell[known]] = self.in_use(index)[known]
        return grid.reshape(self._grid_shape)

    def in_use_variable(self, years: list[int], grids: list[np.ndarray]) -> xr.Variable:
        """The ``magnets_in_use`` result variable from the grids of :meth:`in_use_grid`.

        Dims (year, region, sector), without coordinates (those of the run's results).
        """
        shape = (len(years), *self._grid_shape)
        data = np.stack(grids) if grids else np.zeros(shape)
        in_use = VARIABLES["magnets_in_use"]
        return xr.Variable(in_use.dims, data, in_use.attrs())


def content_per_tonne(world: World) -> pd.DataFrame:
    """T REO of each element per t of a sector's magnets (its grade mix × recipes).

    Columns sector, element, content: ``share × kg / 1000`` per (sector, grade, element),
    summed per (sector, element) as ``groupby(["sector", "element"], as_index=False).sum()``
    does.
    """
    return _content_values(world).table()


@dataclass(frozen=True)
class _ContentLayout:
    """The content table's layout: zero-valued template, grouping, (sector, element) rows."""

    template: pd.DataFrame
    sum: GroupSum
    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Content:
    """The content values of one world, in the rows of its layout."""

    layout: _ContentLayout
    values: np.ndarray

    def table(self) -> pd.DataFrame:
        """The content table (columns sector, element, content)."""
        table = fresh_copy(self.layout.template)
        if len(table):
            table["content"] = self.values
        return table


def _content_values(world: World) -> _Content:
    """The summed content per (sector, element) of ``world`` (see :func:`content_per_tonne`)."""
    grades = {g.id: g for g in world.magnet_grades}
    keys = []
    values = []
    for sector in world.sectors:
        for grade_id, share in sector.magnet_mix.items():
            for element, kg in grades[grade_id].content_kg_reo_per_t.items():
                keys.append((sector.id, element))
                values.append(share * kg / 1000.0)
    layout = _content_layout(tuple(keys))
    summed = layout.sum(np.array(values, dtype=float)) if keys else np.zeros(0)
    return _Content(layout, summed)


@functools.lru_cache(maxsize=16)
def _content_layout(keys: tuple[tuple[str, str], ...]) -> _ContentLayout:
    """The layout for (sector, element) rows ``keys``; names only, so shared between worlds."""
    table = pd.DataFrame([{"sector": sector, "element": element, "content": 0.0}
                          for sector, element in keys], columns=["sector", "element", "content"])
    grouped = table.groupby(["sector", "element"], as_index=False)
    template = grouped.sum()
    codes = grouped.ngroup().to_numpy(dtype=float)
    group_sum = GroupSum(np.where(np.isnan(codes), -1, codes).astype(np.intp), len(template))
    pairs = tuple(zip(template["sector"].tolist(), template["element"].tolist(), strict=True))
    return _ContentLayout(template, group_sum, pairs)


def simulate(
    world: World,
    years: Iterable[int] = range(2024, 2041),
    *,
    schedule: Schedule | None = None,
    policy: PolicyProgram | None = None,
    model: MarketModel | None = None,
    progress: Callable[[int], None] | None = None,
    attrs: dict[str, str] | None = None,
) -> xr.Dataset:
    """Run the market for each year in order and return one dataset with a ``year`` dimension.

    ``schedule`` shifts or scales facility capacities; ``policy`` adjusts each year's inputs and
    adds policy bounds/costs; ``model`` reuses an already built LP (ensembles pass one per
    worker). ``progress`` is called with each finished year.
    """
    year_list = list(years)
    schedule = schedule or Schedule()
    market = model if model is not None else build_market(world, policy)
    year_inputs = DefaultInputs(world)
    magnets = MagnetsInUse(world, year_list, year_inputs)
    capacities = schedule.capacities(world, year_list)
    carry_stock = StockCarry()
    stock_keys = year_inputs.stock_keys()
    state = SimulationState(year=year_list[0])
    inventory: np.ndarray | None = None
    results = []
    in_use = []
    for index, year in enumerate(year_list):
        state.year = year
        # The default inputs with this year's scrap and, after the first year, the stockpiles'
        # opening levels carried from the previous year's closing ones.
        level = (None if state.previous is None
                 else carry_stock.levels(state.previous, *stock_keys))
        inputs = year_inputs(year, capacity=capacities.series(index),
                             scrap=magnets.scrap(index), stock_level=level)
        if inventory is not None:
            inputs = replace(inputs, inventory=inventory)
        adjustments = None
        if policy is not None:
            inputs, adjustments = policy.adjust(inputs, state)
        market.set_year(inputs, adjustments)
        solution = market.solve()
        inventory = market.closing_inventory(solution)
        result = to_dataset(market, solution, year)
        if policy is not None:
            state.solution = solution
            result = policy.account(result, state)
        magnets.record_year(index, result)
        in_use.append(magnets.in_use_grid(index))
        state.previous = result
        results.append(result)
        if progress is not None:
            progress(year)
    # Added once for all years: adding a variable to a dataset re-aligns it, so not per year.
    dataset = concat_years(
        results, extra={"magnets_in_use": magnets.in_use_variable(year_list, in_use)})
    if policy is not None:
        dataset = policy.finish(dataset)
    dataset.attrs.update({"code_version": __version__,
                          "data_version": f"{world.provenance.name} {world.provenance.version}"})
    if attrs:
        dataset.attrs.update(attrs)
    return dataset


def build_market(world: World, policy: PolicyProgram | None = None) -> MarketModel:
    """Build the market LP for ``world`` with the policy rows of ``policy`` declared."""
    with python_text():
        network = build_network(world)
        if policy is not None:
            policy.declare(network)
        return MarketModel(world, network)
