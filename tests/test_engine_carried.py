"""The simulator's numpy bookkeeping between years equals the pandas code it replaced.

Each ``reference_*`` function is the original per-year pandas implementation, kept verbatim.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from hypothesis_budget import SIMULATION, scaled
from rareflow.engine.carried import StockCarry
from rareflow.engine.inputs import DefaultInputs, default_inputs
from rareflow.engine.simulate import MagnetsInUse, content_per_tonne, simulate
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


def reference_content_per_tonne(world: World) -> pd.DataFrame:
    rows = []
    for sector in world.sectors:
        for grade_id, share in sector.magnet_mix.items():
            grade = world.magnet_grade(grade_id)
            for element, kg in grade.content_kg_reo_per_t.items():
                rows.append({"sector": sector.id, "element": element,
                             "content": share * kg / 1000.0})
    table = pd.DataFrame(rows, columns=["sector", "element", "content"])
    return table.groupby(["sector", "element"], as_index=False).sum()


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


@scaled(SIMULATION)
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
    assert list(got.variables) == list(want.variables)
    assert list(got.dims) == list(want.dims)
    for name, index in got.xindexes.items():
        assert type(index) is type(want.xindexes[name])
        assert got.indexes[name].equals(want.indexes[name])
        assert got.indexes[name].dtype == want.indexes[name].dtype


def test_concat_years_falls_back_when_layouts_differ(
        one_year_results: list[xr.Dataset]) -> None:
    first, second = one_year_results[:2]
    extra = [first, second.assign(extra=second.surplus)]
    shifted = [first, second.assign_coords(sector=second.sector.values[::-1])]
    for odd in (extra, shifted):
        want = xr.concat(odd, dim="year", data_vars="all", join="outer")
        xr.testing.assert_identical(concat_years(odd), want)


def _renumbered(world: World, seed: int) -> World:
    """``world`` with other magnet mixes, recipes, lifetimes and collection rates (same names)."""
    rng = np.random.default_rng(seed)
    grades = tuple(g.model_copy(update={"content_kg_reo_per_t": {
        e: float(rng.uniform(0, 400)) for e in g.content_kg_reo_per_t}})
        for g in world.magnet_grades)
    sectors = []
    for sector in world.sectors:
        shares = rng.dirichlet(np.ones(len(sector.magnet_mix))) if sector.magnet_mix else []
        sectors.append(sector.model_copy(update={
            "magnet_mix": dict(zip(sector.magnet_mix, map(float, shares), strict=True)),
            "lifetime_mean_years": float(rng.uniform(2, 20)),
            "lifetime_sd_years": float(rng.uniform(0, 5)),
            "collection_rate": float(rng.uniform(0, 1))}))
    return world.model_copy(update={"magnet_grades": grades, "sectors": tuple(sectors)})


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000), n_regions=st.integers(2, 6))
def test_content_per_tonne_equals_the_pandas_groupby(seed: int, n_regions: int) -> None:
    world = random_world(seed, n_regions, 2, 2)
    for one in (world, _renumbered(world, seed)):
        pd.testing.assert_frame_equal(content_per_tonne(one), reference_content_per_tonne(one),
                                      check_exact=True)


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000))
def test_worlds_with_the_same_names_share_the_scrap_layout_but_not_numbers(seed: int) -> None:
    world = tiny_world()
    first = _magnets_with_history(world, seed)
    second = _magnets_with_history(_renumbered(world, seed), seed)
    assert second._scrap.layout is first._scrap.layout
    for magnets in (first, second):
        pd.testing.assert_frame_equal(magnets.content,
                                      reference_content_per_tonne(magnets.world),
                                      check_exact=True)
        for index in range(4):
            pd.testing.assert_frame_equal(magnets.scrap(index), reference_scrap(magnets, index),
                                          check_exact=True)


def test_keys_are_the_base_year_magnet_demand_keys() -> None:
    world = tiny_world()
    want = default_inputs(world, 2024).magnet_demand[["region", "sector"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(MagnetsInUse(world, YEARS).keys, want)


def test_record_year_reads_served_like_record() -> None:
    world = tiny_world()
    result = simulate(world, [2024])
    by_year, by_array = MagnetsInUse(world, YEARS), MagnetsInUse(world, YEARS)
    by_year.record_year(0, result)
    by_array.record(0, result.served.isel(year=0))
    np.testing.assert_array_equal(by_year.stock.inflow(0), by_array.stock.inflow(0))
    assert by_year.stock.inflow(0).sum() > 0


def test_default_inputs_carry_stock_like_the_pandas_merge() -> None:
    world = tiny_world()
    result = simulate(world, [2024])
    maker = DefaultInputs(world)
    level = StockCarry().levels(result, *maker.stock_keys())
    pd.testing.assert_frame_equal(maker(2025, stock_level=level).stock,
                                  reference_carry_stock(maker(2025).stock, result),
                                  check_exact=True)
    # Without stockpiles the merge gives other dtypes; the simulator used StockCarry's table.
    empty = DefaultInputs(world.model_copy(update={"stockpiles": ()}))
    pd.testing.assert_frame_equal(
        empty(2025, stock_level=StockCarry().levels(result, *empty.stock_keys())).stock,
        StockCarry()(empty(2025).stock, result), check_exact=True)


def test_concat_years_adds_extra_variables_like_setitem(
        one_year_results: list[xr.Dataset]) -> None:
    years = [int(ds.year[0]) for ds in one_year_results]
    shape = (len(years), one_year_results[0].sizes["region"], one_year_results[0].sizes["sector"])
    extra = xr.Variable(("year", "region", "sector"), np.arange(np.prod(shape)).reshape(shape),
                        {"units": "t"})
    want = xr.concat(one_year_results, dim="year", data_vars="all", join="outer")
    want["extra"] = extra
    got = concat_years(one_year_results, extra={"extra": extra})
    xr.testing.assert_identical(got, want)
    assert list(got.variables) == list(want.variables)
    assert list(got.dims) == list(want.dims)
    # An extra variable that does not fit takes the general path, and fails as it would there.
    with pytest.raises(ValueError):
        concat_years(one_year_results, extra={"extra": extra[:1]})
