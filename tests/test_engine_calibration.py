"""The 2024 solve on the bundled world reproduces published figures within stated tolerances."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from rareflow.data.loader import load_world
from rareflow.engine.balance import balance_residuals
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import Adjustments, MarketModel, Solution
from rareflow.engine.results import to_dataset
from rareflow.model.world import World


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


@pytest.fixture(scope="module")
def solved(world: World) -> xr.Dataset:
    model = MarketModel(world)
    model.set_year(default_inputs(world, 2024))
    return to_dataset(model, model.solve(), 2024).isel(year=0)


def _share(ds: xr.Dataset, stage: str, region: str) -> float:
    output = ds.production.sel(stage=stage).sum(["element", "origin"])
    return float(output.sel(region=region) / output.sum())


def test_world_and_us_mine_output_2024(solved: xr.Dataset) -> None:
    mined = solved.production.sel(stage="mining").sum(["element", "origin"])
    assert float(mined.sum()) == pytest.approx(390_000, rel=0.05)  # USGS MCS 2025: 390 kt
    assert float(mined.sel(region="USA")) == pytest.approx(45_000, rel=0.05)  # USGS: 45 kt


def test_china_stage_shares_2024(solved: xr.Dataset) -> None:
    assert _share(solved, "mining", "CHN") == pytest.approx(0.69, abs=0.03)
    assert 0.85 - 0.03 <= _share(solved, "separation", "CHN") <= 0.90 + 0.03
    assert 0.90 - 0.03 <= _share(solved, "magnet", "CHN") <= 0.92 + 0.03


@pytest.mark.parametrize("element", ["NdPr", "Dy", "Tb"])
def test_oxide_prices_2024_within_30_percent(
    solved: xr.Dataset, world: World, element: str
) -> None:
    prices = solved.price.sel(stage="separation", element=element).max("origin")
    reference = {
        p.market: p.usd_per_kg
        for p in world.reference_prices
        if p.year == 2024 and p.element == element
    }
    inside = float(prices.sel(region="CHN"))
    outside = float(prices.sel(region=["USA", "JPN", "DEU"]).mean())
    assert inside == pytest.approx(reference["china"], rel=0.30)
    assert outside == pytest.approx(reference["outside_china"], rel=0.30)


def test_bundled_world_balances_close(solved: xr.Dataset) -> None:
    for node, residual in balance_residuals(solved).items():
        assert float(abs(residual).max()) < 1e-3, node


# --- recalibration 2025: costs in the LP, China's quotas as utilisation floors -----------------

QUOTA_MINES = ("cnre_bayan_obo_mine", "creg_sichuan_mine", "creg_ionic_clay_mine")


@pytest.fixture(scope="module")
def model_2024(world: World) -> tuple[MarketModel, Solution]:
    model = MarketModel(world)
    model.set_year(default_inputs(world, 2024))
    return model, model.solve()


def test_china_mines_produce_the_2024_quota(solved: xr.Dataset, world: World) -> None:
    mined = solved.production.sel(stage="mining", region="CHN").sum(["element", "origin"])
    assert float(mined) == pytest.approx(270_000, rel=1e-6)  # MIIT 2024 mining quota
    assert all(world.facility(f).min_utilisation == 1.0 for f in QUOTA_MINES)


def test_oxide_prices_2024_inside_and_outside_china_are_close(solved: xr.Dataset) -> None:
    # No export controls in 2024: the two markets differ by transport only.
    prices = solved.price.sel(stage="separation").max("origin")
    for element in ("NdPr", "Dy", "Tb"):
        inside = float(prices.sel(region="CHN", element=element))
        outside = float(prices.sel(region=["USA", "JPN", "DEU"], element=element).mean())
        assert outside == pytest.approx(inside, rel=0.02), element


def test_mountain_pass_concentrate_value_2024(model_2024: tuple[MarketModel, Solution]) -> None:
    # MP Materials Q4 2024: realized price $4,717 per t REO of concentrate (sold to China).
    model, solution = model_2024
    rows = model.network.row("concentrate_balance").labelled("row")
    row = rows.loc[(rows.region == "USA") & (rows.deposit == "mountain_pass"), "row"]
    assert float(solution.row_dual[int(row.iloc[0])]) == pytest.approx(4.717, rel=0.30)


def test_every_floor_has_an_outlet_2024_2050(world: World) -> None:
    # Ore cannot be stored: a mine that must run needs concentrators in its country that take its
    # deposit (their concentrate can always be stored, their oxide disposed of).
    for facility in world.facilities:
        if facility.min_utilisation == 0 or facility.stage != "mining":
            continue
        deposit = world.deposit(facility.deposit or "")
        outlets = [f for f in world.facilities if f.stage == "concentration"
                   and f.country == facility.country
                   and ({deposit.id, deposit.deposit_class, "*"} & set(f.feeds))]
        for year in range(2024, 2051):
            need = facility.min_utilisation * facility.capacity_in(year)
            room = sum(f.capacity_in(year) for f in outlets)
            assert room >= need, (facility.id, year)


def test_quota_surplus_is_stored_or_disposed_when_outlets_close(world: World) -> None:
    # China's exports banned and its magnet demand gone: the quota still runs, the surplus goes
    # to concentrate storage and oxide disposal instead of making the year infeasible.
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)
    magnets = inputs.magnet_demand.copy()
    magnets.loc[magnets.region == "CHN", "quantity"] = 0.0
    inputs = replace(inputs, magnet_demand=magnets)
    ban = {}
    for name in ("oxide_ship", "metal_ship", "magnet_ship"):
        keys = model.network.col(name).keys
        ban[name] = np.where(keys.exporter == "CHN", 0.0, 1.0)
    model.set_year(inputs, Adjustments(upper_scale=ban))
    ds = to_dataset(model, model.solve(), 2024).isel(year=0)
    mined = ds.production.sel(stage="mining", region="CHN").sum(["element", "origin"])
    assert float(mined) == pytest.approx(270_000, rel=1e-6)
    surplus = float(ds.disposal.sel(region="CHN").sum()) + float(
        ds.concentrate_stored.sel(region="CHN").sum())
    assert surplus > 50_000
    for node, residual in balance_residuals(ds).items():
        assert float(abs(residual).max()) < 1e-3, node


@pytest.mark.parametrize("year", [2024, 2030, 2040])
def test_floors_hold_under_a_total_chinese_export_ban(world: World, year: int) -> None:
    # The magnet-maker floors need NdPr only (Dy-free grades); non-Chinese NdPr covers them even
    # with every Chinese oxide, metal and magnet export banned and ex-China demand cut to a fifth.
    model = MarketModel(world)
    inputs = default_inputs(world, year)
    magnets = inputs.magnet_demand.copy()
    magnets.loc[magnets.region != "CHN", "quantity"] *= 0.2
    ban = {name: np.where(model.network.col(name).keys.exporter == "CHN", 0.0, 1.0)
           for name in ("oxide_ship", "metal_ship", "magnet_ship")}
    model.set_year(replace(inputs, magnet_demand=magnets), Adjustments(upper_scale=ban))
    assert model.solve().status == "optimal"
