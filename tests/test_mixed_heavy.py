"""Mixed heavy concentrate (SEG+HRE) on the tiny world: made by light separation, shipped,
refined by heavy separation, and the directions its economics and a shipping ban give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from policy_runs import run
from rareflow.engine.balance import balance_residuals, transformation_losses
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.network import MIXED_HEAVY_ELEMENTS
from rareflow.engine.results import to_dataset
from rareflow.model.world import World
from rareflow.testing import tiny_world

HEAVY = ["Sm", "Dy", "Tb", "Y", "other_heavy"]


def _world(refiner_cost: float = 5.0, china_refines: bool = False) -> World:
    """The tiny world with a US heavy-separation circuit that refines mixed heavy concentrate.

    The US light plant (``us_sep``) separates NdPr, La and Ce only, so it leaves its feed's
    SEG+HRE elements in a mixed heavy concentrate.
    """
    data: dict[str, Any] = tiny_world().model_dump(mode="json", exclude_none=True)
    for facility in data["facilities"]:
        if facility["id"] == "us_sep":  # cheap enough to run on the US mine's concentrate
            facility["purity_pct"] = 99.5
            facility["unit_cost_usd_per_kg"] = 1.0
        if facility["id"] == "cn_sep" and china_refines:
            facility["mixed_heavy_feed"] = True
    data["facilities"].append({
        "id": "us_heavy", "name": "US heavy circuit", "operator": "test", "country": "USA",
        "stage": "separation", "status": "operating", "nameplate_t": 2_000, "start_year": 2000,
        "feeds": ["xenotime"], "elements": HEAVY, "mixed_heavy_feed": True, "recovery": 0.9,
        "purity_pct": 99.5, "unit_cost_usd_per_kg": refiner_cost, "assumption": "test"})
    return World.model_validate(data)


def _solve(world: World, adjustments: Adjustments | None = None) -> tuple[MarketModel,
                                                                          xr.Dataset]:
    model = MarketModel(world)
    model.set_year(default_inputs(world, 2024), adjustments)
    return model, to_dataset(model, model.solve(), 2024)


def _assert_conserved(ds: xr.Dataset) -> None:
    scale = max(1.0, float(ds.production.max()))
    for node, residual in balance_residuals(ds).items():
        assert float(abs(residual).max()) <= 1e-6 * scale, node
    for step, loss in transformation_losses(ds).items():
        assert float(loss.min()) >= -1e-6 * scale, step


def _us_heavy_oxide(ds: xr.Dataset) -> float:
    sep = ds.production.sel(stage="separation", region="USA", year=2024).sum("origin")
    return float(sep.sel(element=["Dy", "Tb"]).sum())


def test_light_separation_leaves_a_mixed_heavy_concentrate_that_a_heavy_circuit_refines() -> None:
    model, ds = _solve(_world())
    _assert_conserved(ds)
    made = ds.mixed_heavy_production.sel(region="USA", year=2024)
    assert float(made.sel(element=["NdPr", "La", "Ce"]).sum()) == 0.0
    assert float(made.sel(element="Dy")) > 0
    refined = ds.mixed_heavy_refined.sel(region="USA", year=2024)
    assert float(refined.sum()) > 0
    assert _us_heavy_oxide(ds) > 0
    assert float(ds.facility_output.sel(facility="us_heavy", year=2024)) == pytest.approx(
        float(refined.sum()))
    # the mix keeps its deposit's proportions: Dy/Tb in the mix as in the ore
    mixes = model.network.mixes.set_index(["mix", "element"]).share
    assert set(model.network.mixes.element) <= set(MIXED_HEAVY_ELEMENTS)
    mix = "us_bast/Sm+Dy+Tb+Y+other_heavy"
    np.testing.assert_allclose(mixes[(mix, "Dy")] / mixes[(mix, "Tb")], 0.0007 / 0.0003)


def test_a_heavy_circuit_that_costs_more_than_the_mix_is_worth_stays_idle() -> None:
    _, cheap = _solve(_world(refiner_cost=5.0))
    _, dear = _solve(_world(refiner_cost=500.0))
    _assert_conserved(dear)
    assert _us_heavy_oxide(cheap) > 0
    assert _us_heavy_oxide(dear) == 0.0
    assert float(dear.mixed_heavy_disposal.sel(region="USA").sum()) > 0


def test_closing_the_route_to_china_keeps_the_mix_at_home() -> None:
    world = _world(refiner_cost=15.0, china_refines=True)
    model, open_route = _solve(world)
    _assert_conserved(open_route)
    shipped = open_route.trade.sel(product="mixed_heavy", exporter="USA", importer="CHN")
    assert float(shipped.sum()) > 0
    ship = model.network.col("mixed_heavy_ship")
    ban = Adjustments(upper_scale={"mixed_heavy_ship": np.where(
        ship.keys.importer.to_numpy() == "CHN", 0.0, 1.0)})
    _, closed = _solve(world, ban)
    _assert_conserved(closed)
    assert float(closed.trade.sel(product="mixed_heavy", importer="CHN").sum()) == 0.0
    assert _us_heavy_oxide(closed) > _us_heavy_oxide(open_route)


def test_a_company_halt_of_its_mixed_heavy_sales_to_china_moves_refining_home() -> None:
    world = _world(refiner_cost=15.0, china_refines=True)
    halt = {"id": "halt", "type": "trade_halt", "products": ["mixed_heavy"],
            "destinations": ["CHN"], "facilities": ["us_sep"], "start": 2024, "source": "test"}
    base = run(world, years=[2024]).isel(year=0)
    halted = run(world, halt, years=[2024]).isel(year=0)
    to_china = base.trade.sel(product="mixed_heavy", exporter="USA", importer="CHN")
    assert float(to_china.sum()) > 0
    assert float(halted.trade.sel(product="mixed_heavy", importer="CHN").sum()) == 0.0
    assert float(halted.mixed_heavy_refined.sel(region="USA").sum()) > float(
        base.mixed_heavy_refined.sel(region="USA").sum())
