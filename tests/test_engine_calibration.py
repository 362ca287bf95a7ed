"""The 2024 solve on the bundled world reproduces published figures within stated tolerances."""

from __future__ import annotations

import pytest
import xarray as xr

from rareflow.data.loader import load_world
from rareflow.engine.balance import balance_residuals
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import MarketModel
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
