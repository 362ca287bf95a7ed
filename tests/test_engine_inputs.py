"""``default_inputs`` (layout worked out once per world) equals the original pandas code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypothesis_budget import SIMULATION, scaled
from rareflow.engine.grouping import GroupSum
from rareflow.engine.inputs import (
    DEFAULT_RELEASE_PRICE,
    DefaultInputs,
    YearInputs,
    default_inputs,
    growth_factor,
)
from rareflow.model.world import World
from rareflow.testing import random_world, tiny_world


def reference_default_inputs(world: World, year: int) -> YearInputs:
    """The original implementation (per-year rows, DataFrames and groupbys), kept verbatim."""
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


def assert_same_inputs(got: YearInputs, want: YearInputs) -> None:
    """Exactly equal tables: values (bit for bit), dtypes, column and row order, index."""
    assert got.year == want.year
    for name in ("capacity", "substitution_available", "substitution_cost"):
        pd.testing.assert_series_equal(getattr(got, name), getattr(want, name), check_exact=True)
    for name in ("magnet_demand", "oxide_demand", "scrap", "stock"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)


def test_default_inputs_equal_reference_on_the_tiny_world() -> None:
    world = tiny_world()
    maker = DefaultInputs(world)
    for year in (2020, 2024, 2031, 2040):
        assert_same_inputs(maker(year), reference_default_inputs(world, year))
        assert_same_inputs(default_inputs(world, year), reference_default_inputs(world, year))


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000), n_regions=st.integers(2, 6), year=st.integers(2024, 2040))
def test_default_inputs_equal_reference_in_random_worlds(seed: int, n_regions: int,
                                                         year: int) -> None:
    world = random_world(seed, n_regions, 2, 2)
    assert_same_inputs(DefaultInputs(world)(year), reference_default_inputs(world, year))


def test_duplicated_demand_rows_are_summed_like_pandas() -> None:
    world = tiny_world()
    doubled = world.model_copy(update={"demand": (*world.demand, *world.demand, *world.demand)})
    for year in (2024, 2035):
        assert_same_inputs(DefaultInputs(doubled)(year), reference_default_inputs(doubled, year))


def test_given_capacity_replaces_the_scheduled_one() -> None:
    world = tiny_world()
    capacity = pd.Series({f.id: 1.0 for f in world.facilities}, dtype=float)
    assert DefaultInputs(world)(2030, capacity).capacity is capacity


def test_tables_are_fresh_on_every_call() -> None:
    maker = DefaultInputs(tiny_world())
    first = maker(2024)
    first.stock.loc[:, "level"] = -1.0
    first.magnet_demand.loc[:, "quantity"] = -1.0
    first.oxide_demand.loc[:, "quantity"] = -1.0
    carried = maker(2025, stock_level=np.ones(len(first.stock)))
    carried.stock.loc[:, "level"] = -1.0
    second = maker(2024)
    assert (second.stock.level >= 0).all()
    assert (second.magnet_demand.quantity >= 0).all()
    assert (second.oxide_demand.quantity >= 0).all()
    assert (maker(2025, stock_level=np.ones(len(first.stock))).stock.level == 1.0).all()


@pytest.mark.parametrize("n_groups", [1, 3, 40])
@pytest.mark.parametrize("order", ["random", "sorted", "sorted_without_missing"])
def test_group_sum_matches_pandas_bit_for_bit(n_groups: int, order: str) -> None:
    # Sorted codes take pandas' reduceat path unless a value is NaN; others its Kahan kernel.
    rng = np.random.default_rng(n_groups)
    for trial in range(4):
        codes = rng.integers(-1, n_groups, 500)
        if order != "random":
            codes = np.sort(codes)
        if order == "sorted_without_missing":
            codes = np.maximum(codes, 0)
        values = rng.standard_normal(500) * 10.0 ** rng.integers(-6, 12, 500)
        if trial == 1:
            values[::17] = np.nan
        if trial == 2:
            values[::23] = -0.0
            values[5::31] = np.inf
        keys = pd.array(codes, dtype="Int64")
        keys[codes < 0] = pd.NA  # rows with a missing key, which groupby drops
        frame = pd.DataFrame({"key": keys, "value": values})
        want = frame.groupby("key").value.sum().reindex(range(n_groups), fill_value=0.0)
        with np.errstate(invalid="ignore"):
            got = GroupSum(codes, n_groups)(values)
            reference = GroupSum(codes, n_groups).reference(values)
        for other in (want.to_numpy(dtype=float), reference):
            np.testing.assert_array_equal(got, other)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(other))


def test_sorted_repeated_demand_rows_are_summed_like_pandas() -> None:
    # Repeated rows next to each other: pandas sums the sorted runs with np.add.reduceat.
    world = tiny_world()
    rows = sorted((*world.demand, *world.demand, *world.demand),
                  key=lambda row: (row.region, row.sector, row.element or ""))
    repeated = world.model_copy(update={"demand": tuple(rows)})
    for year in (2024, 2035):
        assert_same_inputs(DefaultInputs(repeated)(year), reference_default_inputs(repeated, year))


def _drawn(world: World, seed: int) -> World:
    """``world`` with other numbers (demand, growth, substitutes, stocks) under the same names."""
    rng = np.random.default_rng(seed)
    demand = tuple(row.model_copy(update={"tonnes": float(rng.uniform(0, 1e4))})
                   for row in world.demand)
    sectors = []
    for sector in world.sectors:
        update: dict[str, object] = {"growth": {2024: float(rng.uniform(-0.1, 0.2)),
                                                2031: float(rng.uniform(-0.1, 0.2))}}
        if sector.substitution is not None:
            update["substitution"] = sector.substitution.model_copy(update={
                "available_from": int(rng.integers(2024, 2035)),
                "max_share": float(rng.uniform(0, 1)),
                "cost_usd_per_kg": float(rng.uniform(1, 100))})
        sectors.append(sector.model_copy(update=update))
    stockpiles = tuple(s.model_copy(update={"initial_t": float(rng.uniform(0, 50)),
                                            "capacity_t": float(rng.uniform(0, 100))})
                       for s in world.stockpiles)
    return world.model_copy(update={"demand": demand, "sectors": tuple(sectors),
                                    "stockpiles": stockpiles})


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000), year=st.integers(2020, 2040))
def test_worlds_with_the_same_names_share_layouts_but_not_numbers(seed: int, year: int) -> None:
    world = random_world(seed % 7, 4, 2, 2)
    DefaultInputs(world)(year)  # builds (and caches) the layouts for these names
    drawn = _drawn(world, seed)
    assert_same_inputs(DefaultInputs(drawn)(year), reference_default_inputs(drawn, year))
    fewer = drawn.model_copy(update={"demand": drawn.demand[::2]})
    assert_same_inputs(DefaultInputs(fewer)(year), reference_default_inputs(fewer, year))


def test_growth_factors_are_the_same_in_any_order_of_years() -> None:
    world = _drawn(tiny_world(), 3)
    maker = DefaultInputs(world)
    for year in (2040, 2019, 2024, 2031, 2025, 2041):
        assert_same_inputs(maker(year), reference_default_inputs(world, year))


def test_a_world_without_stockpiles() -> None:
    world = tiny_world().model_copy(update={"stockpiles": ()})
    maker = DefaultInputs(world)
    assert_same_inputs(maker(2030), reference_default_inputs(world, 2030))
    assert maker(2030, stock_level=np.zeros(0)).stock.empty


def test_given_scrap_replaces_the_empty_table() -> None:
    world = tiny_world()
    scrap = pd.DataFrame({"region": ["USA"], "element": ["Dy"], "origin": ["other"], "t": [1.0]})
    assert DefaultInputs(world)(2030, scrap=scrap).scrap is scrap


def test_series_are_fresh_on_every_call() -> None:
    maker = DefaultInputs(tiny_world())
    first = maker(2024)
    first.substitution_cost.iloc[:] = -1.0
    first.substitution_available.iloc[:] = -1.0
    second = maker(2024)
    assert (second.substitution_cost >= 0).all()
    assert (second.substitution_available >= 0).all()
