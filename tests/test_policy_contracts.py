"""Contracts, trade decisions and fiscal accounting act on ``tiny_world()`` as documented."""

from __future__ import annotations

from typing import Any

import pytest
import xarray as xr

from policy_runs import run
from rareflow.engine.simulate import simulate
from rareflow.model.world import World
from rareflow.policy.capacity_support import support_cost
from rareflow.scenario import CapacitySupport, Offtake, TradeHalt
from rareflow.testing import tiny_world


def with_facility(world: World, **fields: Any) -> World:
    data = world.model_dump()
    base_fields = {"operator": "test", "assumption": "test", "unit_cost_usd_per_kg": 10.0,
                   "ramp_years": 0, "status": "operating", "start_year": 2000}
    data["facilities"] = [*data["facilities"], {**base_fields, **fields}]
    return World.model_validate(data)


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


@pytest.fixture(scope="module")
def base(world: World) -> xr.Dataset:
    return simulate(world, years=[2025]).isel(year=0)


def concentrate(ds: xr.Dataset, exporter: str, importer: str) -> float:
    trade = ds.trade.sel(product="concentrate", exporter=exporter, importer=importer)
    return float(trade.sum())


# --------------------------------------------------------------------- offtake contracts --
@pytest.fixture(scope="module")
def costly_plant(world: World) -> World:
    """A US magnet plant too costly to run at market prices."""
    return with_facility(world, id="us_costly_magnet", name="costly", country="USA",
                         stage="magnet", nameplate_t=1_000, unit_cost_usd_per_kg=60.0,
                         magnet_grades=["std", "ht"])


OFFTAKE = {"id": "dod_take", "type": "offtake", "buyer": "USA", "facility": "us_costly_magnet",
           "volume_t": 400, "start": 2024, "years": 5}


def test_contract_price_makes_an_unviable_plant_run_for_the_contracted_volume(
    costly_plant: World,
) -> None:
    free = simulate(costly_plant, years=[2025]).isel(year=0)
    assert float(free.facility_output.sel(facility="us_costly_magnet")) == pytest.approx(0.0)
    ds = run(costly_plant, {**OFFTAKE, "floor_usd_per_kg": 200}).isel(year=0)
    made = float(ds.facility_output.sel(facility="us_costly_magnet"))
    assert made >= 400 - 1e-6
    cost = float(ds.fiscal_cost.sel(instrument="dod_take"))
    parts = ds.fiscal_cost_component.sel(instrument="dod_take")
    assert float(parts.sel(component="offtake_net_cost")) == pytest.approx(cost)
    assert float(parts.sum()) == pytest.approx(cost)
    price = ds.magnet_price.sel(region="USA", grade=["std", "ht"])
    # the buyer tops up at most the contracted 400 t, by at most the gap to the cheapest grade
    assert 0 < cost <= 400 * (200 - float(price.min())) / 1000 + 1e-6


def test_contract_price_below_cost_leaves_the_plant_idle(costly_plant: World) -> None:
    ds = run(costly_plant, {**OFFTAKE, "price_usd_per_kg": 30}).isel(year=0)
    assert float(ds.facility_output.sel(facility="us_costly_magnet")) == pytest.approx(0.0)


def test_offtake_rejects_a_price_and_a_floor_together() -> None:
    with pytest.raises(ValueError, match="either"):
        Offtake.model_validate({**OFFTAKE, "price_usd_per_kg": 90, "floor_usd_per_kg": 80})
    contract = Offtake.model_validate({**OFFTAKE, "floor_usd_per_kg": 80,
                                       "ceiling_usd_per_kg": 120})
    assert [contract.contract_price(p) for p in (50, 100, 150)] == [80, 100, 120]


# --------------------------------------------------------------------- trade halts --
HALT = {"id": "halt", "type": "trade_halt", "products": ["concentrate"], "destinations": ["CHN"],
        "start": 2024}


def test_company_halt_stops_its_sales_to_the_destination(world: World, base: xr.Dataset) -> None:
    assert concentrate(base, "USA", "CHN") > 1_000
    ds = run(world, {**HALT, "facilities": ["us_conc"]}).isel(year=0)
    assert concentrate(ds, "USA", "CHN") == pytest.approx(0.0, abs=1e-6)
    # the concentrate stays at home: separated or stored, not lost
    assert float(ds.facility_output.sel(facility="us_sep")) > float(
        base.facility_output.sel(facility="us_sep"))


def test_company_halt_lets_the_region_sell_what_other_producers_make(world: World) -> None:
    two = with_facility(world, id="us_conc_other", name="other", country="USA",
                        stage="concentration", nameplate_t=5_000, unit_cost_usd_per_kg=0.5,
                        feeds=["us_bast"], operator="Other Co")
    ds = run(two, {**HALT, "operator": "test"}).isel(year=0)
    other = float(ds.facility_output.sel(facility="us_conc_other"))
    assert 0 < concentrate(ds, "USA", "CHN") <= other * 1.0 + 1e-6


def test_country_halt_and_partial_year(world: World, base: xr.Dataset) -> None:
    ds = run(world, {**HALT, "country": "USA"}).isel(year=0)
    assert concentrate(ds, "USA", "CHN") == pytest.approx(0.0, abs=1e-6)
    half = {**HALT, "country": "USA", "start": "2025-07-02"}
    share = TradeHalt.model_validate(half).active_fraction(2025)
    ds = run(world, half).isel(year=0)
    assert concentrate(ds, "USA", "CHN") <= (1 - share) * concentrate(base, "USA", "CHN") + 1e-6
    with pytest.raises(ValueError, match="exactly one seller"):
        TradeHalt.model_validate({**HALT, "country": "USA", "facilities": ["us_conc"]})


# --------------------------------------------------------------------- price floors --
FLOOR = {"id": "floor", "type": "price_floor", "producers": ["us_sep"], "product": "oxide",
         "element": "NdPr", "floor_usd_per_kg": 150, "start": 2024, "years": 10, "payer": "USA"}


def test_floor_reports_destinations_and_a_halt_keeps_them_out(world: World) -> None:
    ds = run(world, FLOOR).isel(year=0)
    made = float(ds.production.sel(stage="separation", region="USA", element="NdPr").sum())
    where = ds.floor_destination.sel(instrument="floor")
    assert made > 0
    assert float(where.sum()) == pytest.approx(made, rel=1e-6)
    parts = ds.fiscal_cost_component.sel(instrument="floor")
    assert float(parts.sel(component="floor_payment")) == pytest.approx(
        float(ds.fiscal_cost.sel(instrument="floor")))
    halt = {**HALT, "facilities": ["us_sep"], "products": ["oxide"]}
    ds = run(world, FLOOR, halt).isel(year=0)
    assert float(ds.floor_destination.sel(instrument="floor", region="CHN")) == 0.0
    assert float(ds.trade.sel(product="oxide", exporter="USA", importer="CHN").sum()) == (
        pytest.approx(0.0, abs=1e-6))


# --------------------------------------------------------------------- fiscal accounting --
def test_loans_and_equity_are_booked_at_expected_cost() -> None:
    loan = CapacitySupport.model_validate({
        "id": "loan", "type": "capacity_support", "facility": "f", "kind": "loan",
        "amount_usd_m": 100, "loan_rate_pct": 3, "market_rate_pct": 5, "term_years": 4,
        "default_rate_pct": 2, "loss_given_default": 0.5, "start": 2026})
    assert support_cost(loan, 2026, 2025) == {}
    first = support_cost(loan, 2026, 2026)
    assert first == pytest.approx({"loan_interest_subsidy": 2.0, "loan_expected_loss": 1.0})
    assert support_cost(loan, 2026, 2029) == first and support_cost(loan, 2026, 2030) == {}
    equity = loan.model_copy(update={"kind": "equity", "expected_loss_share": 0.3})
    assert support_cost(equity, 2026, 2026) == pytest.approx({"equity_expected_loss": 30.0})
    assert support_cost(equity, 2026, 2027) == {}
    grant = loan.model_copy(update={"kind": "grant"})
    assert support_cost(grant, 2026, 2026) == {"grant": 100.0}


def test_components_sum_to_fiscal_cost_in_a_run(world: World) -> None:
    support = {"id": "loan", "type": "capacity_support", "facility": "us_magnet", "kind": "loan",
               "amount_usd_m": 100, "start": 2024}
    tariff = {"id": "duty", "type": "tariff", "importer": "USA", "exporter": "CHN",
              "product": "magnet", "usd_per_kg": 5, "start": 2024}
    ds = run(world, support, tariff, years=[2024, 2025])
    total = ds.fiscal_cost_component.sum("component")
    xr.testing.assert_allclose(total, ds.fiscal_cost)
    assert float(ds.fiscal_cost_component.sel(instrument="loan", component="grant").sum()) == 0.0
    assert (ds.fiscal_cost_component.sel(instrument="loan", component="loan_expected_loss")
            > 0).all()
