"""The rule of origin: a region exports only the metal and magnets it made, unless it is a hub."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from policy_runs import run
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.results import to_dataset
from rareflow.model.world import World
from rareflow.testing import random_world, tiny_world


def _us_ban_on_chinese_magnets(world: World) -> xr.Dataset:
    """2024 with every magnet shipment from China to the US closed."""
    model = MarketModel(world)
    keys = model.network.col("magnet_ship").keys
    closed = ((keys.exporter == "CHN") & (keys.importer == "USA")).to_numpy()
    model.set_year(default_inputs(world, 2024),
                   Adjustments(upper_scale={"magnet_ship": np.where(closed, 0.0, 1.0)}))
    return to_dataset(model, model.solve(), 2024).isel(year=0)


def _with_hubs(world: World, hubs: list[str]) -> World:
    return world.model_copy(update={"trade": world.trade.model_copy(
        update={"reexport_hubs": tuple(hubs)})})


def _japan_reexports(ds: xr.Dataset) -> float:
    """t of magnet Japan ships abroad beyond what it made."""
    exported = float(ds.magnet_trade.sel(exporter="JPN").sum())
    made = float(ds.magnet_production.sel(region="JPN").sum())
    return exported - made


def test_a_ban_on_chinese_magnets_is_not_bypassed_through_japan() -> None:
    ds = _us_ban_on_chinese_magnets(tiny_world())
    assert float(ds.magnet_trade.sel(exporter="CHN", importer="USA").sum()) == 0.0
    assert _japan_reexports(ds) <= 1e-6


def test_without_the_rule_the_same_ban_leaks_through_a_hub() -> None:
    ds = _us_ban_on_chinese_magnets(_with_hubs(tiny_world(), ["JPN"]))
    assert _japan_reexports(ds) > 100.0  # Chinese magnets relabelled in Japan


@pytest.mark.parametrize("seed", [1, 7, 23])
def test_no_region_exports_more_than_it_makes(seed: int) -> None:
    world = random_world(seed, n_regions=5)
    model = MarketModel(world)
    model.set_year(default_inputs(world, 2030))
    ds = to_dataset(model, model.solve(), 2030).isel(year=0)
    exported = ds.magnet_trade.sum(["importer", "grade"]).rename(exporter="region")
    made = ds.magnet_production.sum(["grade", "origin"])
    assert float((exported - made).max()) <= 1e-6
    shipped = ds.trade.sel(product="metal").sum("importer").rename(exporter="region")
    output = ds.production.sel(stage="metal")
    assert float((shipped - output).max()) <= 1e-6


def _china_oxide_into_usa(ds: xr.Dataset) -> xr.DataArray:
    """t REO of China-origin oxide the US receives, by exporter."""
    return ds.trade.sel(product="oxide", importer="USA", origin="china").sum("element")


def test_oxide_closed_on_the_route_reaches_the_us_through_third_countries() -> None:
    """Oxide may be re-exported: closing only China → US moves Chinese oxide via Japan."""
    world = tiny_world()
    model = MarketModel(world)
    keys = model.network.col("oxide_ship").keys
    closed = ((keys.exporter == "CHN") & (keys.importer == "USA")).to_numpy()
    model.set_year(default_inputs(world, 2025),
                   Adjustments(upper_scale={"oxide_ship": np.where(closed, 0.0, 1.0)}))
    ds = to_dataset(model, model.solve(), 2025).isel(year=0)
    via = _china_oxide_into_usa(ds)
    assert float(via.sel(exporter="CHN")) == 0.0
    assert float(via.drop_sel(exporter="CHN").sum()) > 1000.0  # the leak a route rule leaves


def test_a_tariff_on_chinese_oxide_applies_by_origin_whatever_the_route() -> None:
    """The same closure as a prohibitive tariff on China → US oxide: it follows the origin tag."""
    world = tiny_world()
    tariff = {"id": "oxide_tariff", "type": "tariff", "exporter": "CHN", "importer": "USA",
              "product": "oxide", "usd_per_kg": 200, "start": 2024}
    plain = _china_oxide_into_usa(run(world).isel(year=0))
    ds = run(world, tariff).isel(year=0)
    taxed = _china_oxide_into_usa(ds)
    assert float(plain.sum()) > 1000.0
    assert float(taxed.sum()) < 0.01 * float(plain.sum())
    assert float(taxed.drop_sel(exporter="CHN").sum()) <= 1e-6
