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
from rareflow.engine.inputs import YearInputs, default_inputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.network import Network, build_network
from rareflow.engine.results import to_dataset
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
    ``adjust`` changes a year's inputs and returns bounds/cost adjustments; ``account`` adds
    policy outcomes (e.g. ``fiscal_cost``) to the year's result dataset.
    """

    def declare(self, network: Network) -> None:
        """Add policy rows and coefficients to ``network.lp`` (before the LP is built)."""

    def adjust(
        self, inputs: YearInputs, state: SimulationState
    ) -> tuple[YearInputs, Adjustments | None]:
        """Return the year's adjusted inputs and policy adjustments."""

    def account(self, result: xr.Dataset, state: SimulationState) -> xr.Dataset:
        """Return ``result`` with policy outcomes added."""


@dataclass
class SimulationState:
    """What the simulator carries from one year to the next."""

    year: int
    previous: xr.Dataset | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    """Per-facility start delays (years) and capacity multipliers for a run."""

    delays: dict[str, int] = field(default_factory=dict)
    capacity_factor: dict[str, float] = field(default_factory=dict)
    extra_capacity: dict[str, dict[int, float]] = field(default_factory=dict)

    def capacity(self, world: World, year: int) -> pd.Series:
        """Capacity of every facility in ``year`` after delays and multipliers (t/y)."""
        values = {f.id: self.facility_capacity(f, year) for f in world.facilities}
        return pd.Series(values, dtype=float)

    def facility_capacity(self, facility: Facility, year: int, advance: float = 0.0) -> float:
        """Capacity of ``facility`` in ``year`` (t/y), its schedule ``advance`` years earlier.

        A fractional advance interpolates between the two whole-year schedules around it.
        """
        delay = self.delays.get(facility.id, 0)
        whole = int(np.floor(advance))
        part = advance - whole
        value = (1.0 - part) * facility.capacity_in(year, delay - whole)
        if part:
            value += part * facility.capacity_in(year, delay - whole - 1)
        value *= self.capacity_factor.get(facility.id, 1.0)
        return value + self.extra_capacity.get(facility.id, {}).get(year, 0.0)


class MagnetsInUse:
    """Dynamic stock of magnets in use per (region, sector), yielding end-of-life scrap."""

    def __init__(self, world: World, years: list[int]) -> None:
        self.world = world
        self.years = years
        base = world.provenance.base_year
        magnet_sectors = [s for s in world.sectors if s.kind == "magnet"]
        base_inputs = default_inputs(world, base)
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
        table = self.keys.assign(t_magnet=outflow).merge(self.content, on="sector")
        table["t"] = table.t_magnet * table.content
        table["origin"] = np.where(table.region == self.world.china, "china", "other")
        grouped = table.groupby(["region", "element", "origin"], as_index=False)
        return grouped.agg(t=("t", "sum"))

    def record(self, index: int, served: xr.DataArray) -> None:
        """Add the year's magnets put into use (served demand, t magnet) as a new cohort."""
        frame = served.to_series().rename("served").reset_index()
        values = self.keys.merge(frame, on=["region", "sector"], how="left").served.fillna(0.0)
        self.stock.add_inflow(index, values.to_numpy(dtype=float))

    def in_use(self, index: int) -> np.ndarray:
        """Magnets in use at the end of year ``index`` (t magnet, per key)."""
        return self.stock.stock(index)


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
    magnets = MagnetsInUse(world, year_list)
    state = SimulationState(year=year_list[0])
    results = []
    for index, year in enumerate(year_list):
        state.year = year
        inputs = default_inputs(world, year)
        inputs = replace(inputs, capacity=schedule.capacity(world, year),
                         scrap=magnets.scrap(index))
        if state.previous is not None:
            inputs = replace(inputs, stock=_carry_stock(inputs.stock, state.previous))
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
        result["magnets_in_use"] = _in_use_array(magnets, index, world, year)
        state.previous = result
        results.append(result)
        if progress is not None:
            progress(year)
    dataset = xr.concat(results, dim="year", data_vars="all", join="outer")
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


def _carry_stock(stock: pd.DataFrame, previous: xr.Dataset) -> pd.DataFrame:
    """Replace initial stockpile levels with the closing levels of the ``previous`` year."""
    closing = previous.stockpile_level.isel(year=0).to_series().rename("level")
    levels = closing.reset_index()
    merged = stock.drop(columns="level").merge(levels, on=["region", "element"], how="left")
    merged["level"] = merged.level.fillna(0.0)
    merged["fill_max"] = np.maximum(0.0, merged.capacity - merged.level)
    return merged[stock.columns]


def _in_use_array(magnets: MagnetsInUse, index: int, world: World, year: int) -> xr.DataArray:
    table = magnets.keys.assign(value=magnets.in_use(index))
    series = table.set_index(["region", "sector"]).value
    array = xr.DataArray.from_series(series).reindex(
        region=world.region_ids, sector=[s.id for s in world.sectors], fill_value=0.0)
    array.attrs["units"] = "t magnet"
    return array.expand_dims(year=[year])
