"""The simulator's numpy bookkeeping between years equals the pandas code it replaced.

Each ``reference_*`` function is the original per-year pandas implementation, kept verbatim.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rareflow.engine.carried import StockCarry
from rareflow.engine.inputs import default_inputs
from rareflow.engine.simulate import MagnetsInUse, simulate
from rareflow.engine.stacking import concat_years
from rareflow.model.world import World
from rareflow.testing import random_world, tiny_world

YEARS = list(range(2024, 2031))


def reference_scrap(magnets: MagnetsInUse, index: int) -> pd.DataFrame:
    outflow = magnets.stock.outflow_from_past(index) * magnets.collection
    table = magnets.keys.assign(t_magnet=outflow).merge(magnets.content, on="sector")
    table["t"] = table.t_magnet * table.content
    table["origin"] = np.where(table.region == magnets.world.china, "china", "other")
    grouped = table.groupby(["region", "element", "origin"], as_index=False)
    return grouped.agg(t=("t", "sum"))


def reference_served_at_keys(magnets: MagnetsInUse, served: xr.DataArray) -> np.ndarray:
    frame = served.to_series().rename("served").reset_index()
    values = magnets.keys.merge(frame, on=["region", "sector"], how="left").served.fillna(0.0)
    return values.to_numpy(dtype=float)


def reference_carry_stock(stock: pd.DataFrame, previous: xr.Dataset) -> pd.DataFrame:
    closing = previous.stockpile_level.isel(year=0).to_series().rename("level")
    levels = closing.reset_index()
    merged = stock.drop(columns="level").merge(levels, on=["region", "element"], how="left")
    merged["level"] = merged.level.fillna(0.0)
    merged["fill_max"] = np.maximum(0.0, merged.capacity - merged.level)
    return merged[stock.columns]


def _magnets_with_history(world: World, seed: int) -> MagnetsInUse:
    """A stock model with a few recorded years of random served demand."""
    magnets = MagnetsInUse(world, YEARS)
    rng = np.random.default_rng(seed)
    for index in range(3):
        magnets.stock.add_inflow(index, rng.uniform(0, 5e3, len(magnets.keys)))
    return magnets


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_regions=st.integers(2, 6))
def test_scrap_table_equals_the_pandas_groupby(seed: int, n_regions: int) -> None:
    magnets = _magnets_with_history(random_world(seed, n_regions, 2, 2), seed)
    for index in range(4):
        pd.testing.assert_frame_equal(magnets.scrap(index), reference_scrap(magnets, index),
                                      check_exact=True)


def test_scrap_table_equals_the_pandas_groupby_on_the_tiny_world() -> None:
    magnets = _magnets_with_history(tiny_world(), 1)
    for index in range(4):
        pd.testing.assert_frame_equal(magnets.scrap(index), reference_scrap(magnets, index),
                                      check_exact=True)


def test_served_demand_is_read_at_every_key_as_the_left_merge_did() -> None:
    world = tiny_world()
    magnets = MagnetsInUse(world, YEARS)
    regions = [*world.region_ids[1:], "XXX"]  # one region missing, one unknown
    sectors = [s.id for s in world.sectors][::-1]
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 100, (len(regions), len(sectors)))
    values[0, 0] = np.nan
    served = xr.DataArray(values, dims=("region", "sector"),
                          coords={"region": regions, "sector": sectors})
    want = reference_served_at_keys(magnets, served)
    got = magnets._served(served, magnets._regions, magnets._sectors)
    np.testing.assert_array_equal(np.where(np.isnan(got), 0.0, got), want)
    transposed = magnets._served(served.transpose(), magnets._regions, magnets._sectors)
    np.testing.assert_array_equal(transposed, got)


def test_carried_stock_equals_the_pandas_merge() -> None:
    world = tiny_world()
    result = simulate(world, [2024])
    stock = default_inputs(world, 2025).stock
    shuffled = stock.iloc[::-1].set_index(pd.Index(range(10, 10 + len(stock))))
    unknown = pd.concat([stock, stock.iloc[:1].assign(region="XXX")], ignore_index=True)
    for table in (stock, shuffled, unknown):
        pd.testing.assert_frame_equal(StockCarry()(table, result),
                                      reference_carry_stock(table, result), check_exact=True)


def test_magnets_in_use_is_zero_where_no_magnets_are_used() -> None:
    world = tiny_world()
    ds = simulate(world, YEARS[:3])
    in_use = ds.magnets_in_use
    assert not np.isnan(in_use.values).any()
    magnets = MagnetsInUse(world, YEARS)
    used = set(zip(magnets.keys.region, magnets.keys.sector, strict=True))
    for region in in_use.region.values:
        for sector in in_use.sector.values:
            if (region, sector) not in used:
                assert float(abs(in_use.sel(region=region, sector=sector)).max()) == 0.0
    assert float(in_use.sum()) > 0


@pytest.fixture(scope="module")
def one_year_results() -> list[xr.Dataset]:
    world = tiny_world()
    return [simulate(world, [year]).drop_vars("magnets_in_use") for year in YEARS[:4]]


def test_concat_years_equals_xr_concat(one_year_results: list[xr.Dataset]) -> None:
    want = xr.concat(one_year_results, dim="year", data_vars="all", join="outer")
    got = concat_years(one_year_results)
    xr.testing.assert_identical(got, want)
    assert list(got.data_vars) == list(want.data_vars)
    assert list(got.coords) == list(want.coords)


def test_concat_years_falls_back_when_layouts_differ(
        one_year_results: list[xr.Dataset]) -> None:
    first, second = one_year_results[:2]
    extra = [first, second.assign(extra=second.surplus)]
    shifted = [first, second.assign_coords(sector=second.sector.values[::-1])]
    for odd in (extra, shifted):
        want = xr.concat(odd, dim="year", data_vars="all", join="outer")
        xr.testing.assert_identical(concat_years(odd), want)
