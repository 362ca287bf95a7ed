"""Multi-year myopic simulation: solve the market year after year, carrying state forward.

State carried between years: magnets in use (a dynamic stock model per region × sector whose
end-of-life outflow, times the collection rate, becomes recycling feed), strategic stockpile
levels, and the previous year's prices (used by policies such as price floors). Capacity follows
each facility's schedule (start year, ramp-up, delays); demand grows per sector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from rareflow import __version__
from rareflow.engine.carried import GridLookup, ScrapTable, StockCarry
from rareflow.engine.inputs import DefaultInputs, YearInputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.network import Network, build_network
from rareflow.engine.results import to_dataset
from rareflow.engine.stacking import concat_years
from rareflow.engine.stock import MagnetStock, NormalLifetime, historic_inflows
from rareflow.model.facilities import Facility
from rareflow.model.world import World

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
    """What the simulator carries from one year to the next."""

    year: int
    previous: xr.Dataset | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    """Per-facility start delays (years), ramp-up stretch and capacity multipliers for a run."""

    delays: dict[str, int] = field(default_factory=dict)
    capacity_factor: dict[str, float] = field(default_factory=dict)
    extra_capacity: dict[str, dict[int, float]] = field(default_factory=dict)
    ramp_factor: dict[str, float] = field(default_factory=dict)

    def capacity(self, world: World, year: int) -> pd.Series:
        """Capacity of every facility in ``year`` after delays and multipliers (t/y)."""
        values = {f.id: self.facility_capacity(f, year) for f in world.facilities}
        return pd.Series(values, dtype=float)

    def facility_capacity(self, facility: Facility, year: int, advance: float = 0.0) -> float:
        """Capacity of ``facility`` in ``year`` (t/y), its schedule ``advance`` years earlier.

        A fractional advance interpolates between the two whole-year schedules around it.
        """
        delay = self.delays.get(facility.id, 0)
        ramp = self.ramp_factor.get(facility.id, 1.0)
        whole = int(np.floor(advance))
        part = advance - whole
        value = (1.0 - part) * facility.capacity_in(year, delay - whole, ramp)
        if part:
            value += part * facility.capacity_in(year, delay - whole - 1, ramp)
        value *= self.capacity_factor.get(facility.id, 1.0)
        return value + self.extra_capacity.get(facility.id, {}).get(year, 0.0)


class MagnetsInUse:
    """Dynamic stock of magnets in use per (region, sector), yielding end-of-life scrap."""

    def __init__(self, world: World, years: list[int],
                 inputs: DefaultInputs | None = None) -> None:
        self.world = world
        self.years = years
        base = world.provenance.base_year
        magnet_sectors = [s for s in world.sectors if s.kind == "magnet"]
        base_inputs = (inputs or DefaultInputs(world))(base)
        self.keys = base_inputs.magnet_demand[["region", "sector"]].reset_index(drop=True)
        sectors = {s.id: s for s in magnet_sectors}
        mean = self.keys.sector.map(lambda s: sectors[s].lifetime_mean_years).to_numpy(float)
        sd = self.keys.sector.map(lambda s: max(sectors[s].lifetime_sd_years, 1e-6))
        self.collection = self.keys.sector.map(lambda s: sectors[s].collection_rate).to_numpy(
            dtype=float)
        base_quantity = self.keys.merge(base_inputs.magnet_demand, how="left").quantity
        history = historic_inflows(base_quantity.fillna(0.0).to_numpy(dtype=float),
                                   HISTORIC_GROWTH, HISTORY_YEARS)
        self.stock = MagnetStock(len(years), NormalLifetime(mean, sd.to_numpy(dtype=float)),
                                 shape=(len(self.keys),), past_inflows=history)
        self.content = self._content_per_tonne()
        self._scrap = ScrapTable(self.keys, self.content, world.china)
        self._served = GridLookup(("region", "sector"))
        self._regions, self._sectors = self.keys.region.tolist(), self.keys.sector.tolist()
        # Flat cell of each key in the (region, sector) grid of the results (−1: not in it).
        region = {r: i for i, r in enumerate(world.region_ids)}
        sector = {s.id: i for i, s in enumerate(world.sectors)}
        self._grid_shape = (len(region), len(sector))
        self._grid_cell = np.array(
            [region[r] * len(sector) + sector[s] if r in region and s in sector else -1
             for r, s in zip(self._regions, self._sectors, strict=True)], dtype=np.intp)

    def _content_per_tonne(self) -> pd.DataFrame:
        """T REO of each element per t of a sector's magnets (its grade mix × recipes)."""
        rows = []
        for sector in self.world.sectors:
            for grade_id, share in sector.magnet_mix.items():
                grade = self.world.magnet_grade(grade_id)
                for element, kg in grade.content_kg_reo_per_t.items():
                    rows.append({"sector": sector.id, "element": element,
                                 "content": share * kg / 1000.0})
        table = pd.DataFrame(rows, columns=["sector", "element", "content"])
        return table.groupby(["sector", "element"], as_index=False).sum()

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

    def in_use_array(self, years: list[int], grids: list[np.ndarray]) -> xr.DataArray:
        """The ``magnets_in_use`` result variable from the grids of :meth:`in_use_grid`."""
        shape = (len(years), *self._grid_shape)
        data = np.stack(grids) if grids else np.zeros(shape)
        return xr.DataArray(
            data, dims=("year", "region", "sector"),
            coords={"year": np.asarray(years, dtype=np.int64), "region": self.world.region_ids,
                    "sector": [s.id for s in self.world.sectors]},
            attrs={"units": "t magnet"},
        )


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
    carry_stock = StockCarry()
    state = SimulationState(year=year_list[0])
    results = []
    in_use = []
    for index, year in enumerate(year_list):
        state.year = year
        inputs = year_inputs(year, capacity=schedule.capacity(world, year))
        inputs = replace(inputs, scrap=magnets.scrap(index))
        if state.previous is not None:
            inputs = replace(inputs, stock=carry_stock(inputs.stock, state.previous))
        adjustments = None
        if policy is not None:
            inputs, adjustments = policy.adjust(inputs, state)
        market.set_year(inputs, adjustments)
        solution = market.solve()
        result = to_dataset(market, solution, year)
        if policy is not None:
            # Policies that account from raw LP values (e.g. a floor's subsidised volume per
            # facility) read the solved model and solution of the year from here.
            state.extra["market"] = market
            state.extra["solution"] = solution
            result = policy.account(result, state)
        magnets.record(index, result.served.isel(year=0))
        in_use.append(magnets.in_use_grid(index))
        state.previous = result
        results.append(result)
        if progress is not None:
            progress(year)
    dataset = concat_years(results)
    # Added once for all years (adding it to every year's dataset cost ≈ 2 ms a year).
    dataset["magnets_in_use"] = magnets.in_use_array(year_list, in_use)
    if policy is not None:
        dataset = policy.finish(dataset)
    dataset.attrs.update({"code_version": __version__,
                          "data_version": f"{world.provenance.name} {world.provenance.version}"})
    if attrs:
        dataset.attrs.update(attrs)
    return dataset


def build_market(world: World, policy: PolicyProgram | None = None) -> MarketModel:
    """Build the market LP for ``world`` with the policy rows of ``policy`` declared."""
    network = build_network(world)
    if policy is not None:
        policy.declare(network)
    return MarketModel(world, network)
