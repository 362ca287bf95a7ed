"""Each policy instrument acts on the market of ``tiny_world()`` in the right direction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from policy_runs import run, scenario
from rareflow.engine.inputs import default_inputs
from rareflow.engine.network import build_network
from rareflow.engine.simulate import SimulationState, build_market, simulate
from rareflow.model.world import World
from rareflow.policy import compile_policies
from rareflow.policy.export_control import CARRYING_RATE, covered_demand
from rareflow.policy.recycling_target import oxide_equivalent_demand
from rareflow.scenario import ExportControl
from rareflow.testing import tiny_world

ALLIES = ["USA", "AUS", "JPN"]


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


@pytest.fixture(scope="module")
def base(world: World) -> xr.Dataset:
    return simulate(world, years=[2025]).isel(year=0)


def dy_exports(ds: xr.Dataset, exporters: list[str], importers: list[str],
               element: str = "Dy") -> float:
    """t REO of ``element`` shipped (oxide, metal, magnet content) between the regions."""
    trade = ds.trade.sel(product=["oxide", "metal", "magnet"], element=element)
    return float(trade.sel(exporter=exporters, importer=importers).sum())


def with_facility(world: World, **fields: Any) -> World:
    data = world.model_dump()
    base_fields = {"operator": "test", "assumption": "test", "unit_cost_usd_per_kg": 10.0,
                   "ramp_years": 0}
    data["facilities"] = [*data["facilities"], {**base_fields, **fields}]
    return World.model_validate(data)


# --------------------------------------------------------------------- export controls --
BAN = {"id": "heavy_ban", "type": "export_control", "exporter": "CHN", "elements": ["Dy", "Tb"],
       "destinations": ["allies"], "start": 2024, "mode": "ban"}


def test_ban_creates_two_tier_prices(world: World, base: xr.Dataset) -> None:
    ds = run(world, BAN).isel(year=0)
    assert dy_exports(ds, ["CHN"], ALLIES) == 0.0
    assert dy_exports(ds, ["CHN"], ALLIES, "Tb") == 0.0
    assert dy_exports(base, ["CHN"], ALLIES) > 100.0
    price = ds.price.sel(stage="separation", origin="china")
    before = base.price.sel(stage="separation", origin="china")
    for element in ("Dy", "Tb"):
        inside = float(price.sel(region="CHN", element=element))
        outside = float(price.sel(region="USA", element=element))
        assert outside > 1.2 * inside, element  # two tiers
        assert outside > float(before.sel(region="USA", element=element)) + 100.0
    # Inside China the heavy rare earths the ban keeps at home get cheaper: Tb falls to its
    # lowest served demand block (800 -> 400 USD/kg). Dy and Tb only go into the same
    # high-temperature magnet, whose value in China is pinned by the EV substitute, so the
    # value of a tonne of magnet's Dy + Tb content in China does not rise.
    assert float(price.sel(region="CHN", element="Tb")) < 0.75 * float(
        before.sel(region="CHN", element="Tb"))
    bundle = 45 * price.sel(region="CHN", element="Dy") + 6 * price.sel(region="CHN", element="Tb")
    bundle_before = (45 * before.sel(region="CHN", element="Dy")
                     + 6 * before.sel(region="CHN", element="Tb"))
    assert float(bundle) <= float(bundle_before) * 1.001


def test_inactive_control_leaves_the_market_unchanged(world: World, base: xr.Dataset) -> None:
    later = {**BAN, "start": 2030}
    ds = run(world, later).isel(year=0)
    np.testing.assert_allclose(ds.trade.values, base.trade.values, atol=1e-6)
    assert float(abs(ds.surplus - base.surplus)) < 1e-6


def test_partial_year_ban_and_licence_limit_flows_to_reference(
    world: World, base: xr.Dataset
) -> None:
    reference = dy_exports(base, ["CHN"], ALLIES)
    half = {**BAN, "id": "half_ban", "elements": ["Dy"], "start": "2025-07-02"}
    ds = run(world, half).isel(year=0)
    share = ExportControl.model_validate(half).blocked_fraction(2025)
    assert share == pytest.approx(0.5, abs=0.01)
    assert dy_exports(ds, ["CHN"], ALLIES) <= (1 - share) * reference + 1e-6

    licence = {"id": "licence", "type": "export_control", "exporter": "CHN",
               "elements": ["Dy"], "destinations": "all", "start": 2025, "mode": "licence",
               "approval_share": 0.5, "delay_months": 2}
    blocked = ExportControl.model_validate(licence).blocked_fraction(2025)
    assert blocked == pytest.approx(2 / 12 + 10 / 12 * 0.5, abs=0.01)
    ds = run(world, licence).isel(year=0)
    flows = dy_exports(ds, ["CHN"], ALLIES)
    assert flows <= (1 - blocked) * reference + 1e-6
    assert flows > 0.0


def test_licence_reference_grows_with_covered_demand(world: World) -> None:
    licence = {"id": "licence", "type": "export_control", "exporter": "CHN",
               "elements": ["Dy"], "destinations": "all", "start": 2025, "mode": "licence",
               "approval_share": 0.5}
    years = [2024, 2025, 2026, 2027, 2028]
    program = compile_policies(scenario(licence), world)
    ds = simulate(program.world, years=years, policy=program)
    free = simulate(world, years=years)
    network = program._require_network()
    regions = ExportControl.model_validate(licence).destination_regions(world)
    demand = {y: covered_demand(network, default_inputs(world, y), regions, ["Dy"])
              for y in years}
    base_flow = dy_exports(ds.sel(year=2024), ["CHN"], ALLIES)
    licensed = []
    for year in years[1:]:  # 50 % of the 2024 flow grown with demand, never compounding
        growth = demand[year] / demand[2024]
        flow = dy_exports(ds.sel(year=year), ["CHN"], ALLIES)
        assert flow <= 0.5 * base_flow * growth + 1e-6
        licensed.append(flow)
    assert demand[2028] > 1.05 * demand[2025]
    assert licensed[-1] > licensed[0] * (demand[2028] / demand[2025]) * 0.95
    assert licensed[-1] < dy_exports(free.sel(year=2028), ["CHN"], ALLIES)


def test_licence_delay_adds_carrying_cost(world: World) -> None:
    licence = {"id": "licence", "type": "export_control", "exporter": "CHN",
               "elements": ["Dy"], "destinations": "all", "start": 2025, "mode": "licence",
               "approval_share": 1.0, "delay_months": 6}
    program = compile_policies(scenario(licence), world)
    market = build_market(program.world, program)
    inputs = default_inputs(world, 2025)
    _, adjustments = program.adjust(inputs, SimulationState(year=2025))
    assert adjustments is not None
    ship = market.network.col("oxide_ship").keys
    cost = adjustments.extra_cost["oxide_ship"]
    dy = ((ship.exporter == "CHN") & (ship.element == "Dy") & (ship.origin == "china")).to_numpy()
    reference = program._probe_solve(inputs)[0]
    price = float(reference.price.sel(stage="separation", region="CHN", element="Dy",
                                      origin="china").squeeze())
    np.testing.assert_allclose(cost[dy], price * CARRYING_RATE * 6 / 12)
    assert np.all(cost[~dy & (ship.element != "Dy").to_numpy()] == 0.0)


def test_quota_caps_reo_exports(world: World, base: xr.Dataset) -> None:
    quota = {"id": "quota", "type": "export_control", "exporter": "CHN", "elements": ["Dy"],
             "destinations": "all", "start": 2024, "mode": "quota", "quota_t_per_y": 100}
    assert dy_exports(base, ["CHN"], ALLIES) > 100.0
    ds = run(world, quota).isel(year=0)
    assert dy_exports(ds, ["CHN"], ALLIES) <= 100.0 + 1e-6


def test_de_minimis_stops_rerouting_of_china_origin_material(world: World) -> None:
    to_usa = {"id": "usa_ban", "type": "export_control", "exporter": "CHN",
              "elements": ["Dy", "Tb"], "destinations": ["USA"], "start": 2024, "mode": "ban"}
    loose = run(world, to_usa).isel(year=0)
    strict = run(world, {**to_usa, "de_minimis": 0.001}).isel(year=0)

    def tainted_into_usa(ds: xr.Dataset) -> float:
        trade = ds.trade.sel(product=["oxide", "metal", "magnet"], element="Dy", origin="china")
        return float(trade.sel(importer="USA").sum())

    assert tainted_into_usa(loose) > 10.0  # re-exported through Japan
    assert tainted_into_usa(strict) == pytest.approx(0.0, abs=1e-6)


def test_technology_control_blocks_new_capacity_using_chinese_technology(world: World) -> None:
    changed = with_facility(world, id="au_new_sep", name="new", country="AUS",
                            stage="separation", status="under_construction", nameplate_t=3000,
                            start_year=2024, feeds=["au_mon"], uses_chinese_technology=True)
    tech = {"id": "tech", "type": "export_control", "exporter": "CHN",
            "products": ["technology"], "destinations": "all", "start": "2025-07-02",
            "mode": "ban", "technology_controls": True}
    ds = run(changed, tech, years=[2024, 2025, 2026])
    capacity = ds.facility_capacity.sel(facility="au_new_sep")
    assert capacity.sel(year=[2024, 2025, 2026]).values.tolist() == pytest.approx(
        [3000.0, 3000.0 * (1 - 183 / 365), 0.0], rel=1e-3)
    assert float(ds.facility_capacity.sel(facility="au_sep", year=2026)) == 12000.0


def test_technology_control_leaves_operating_plants_with_chinese_technology_running(
    world: World
) -> None:
    changed = with_facility(world, id="au_old_sep", name="old", country="AUS",
                            stage="separation", status="operating", nameplate_t=1000,
                            start_year=2020, feeds=["au_mon"], uses_chinese_technology=True)
    tech = {"id": "tech", "type": "export_control", "exporter": "CHN",
            "products": ["technology"], "destinations": "all", "start": 2025, "mode": "ban"}
    ds = run(changed, tech, years=[2025])
    assert float(ds.facility_capacity.sel(facility="au_old_sep", year=2025)) == 1000.0


# --------------------------------------------------------------------- trade and prices --
def test_tariff_lowers_affected_trade_and_reports_revenue(world: World, base: xr.Dataset) -> None:
    tariff = {"id": "usa_magnet_tariff", "type": "tariff", "importer": "USA", "exporter": "CHN",
              "product": "magnet", "usd_per_kg": 50, "start": 2024}
    ds = run(world, tariff).isel(year=0)
    before = float(base.magnet_trade.sel(exporter="CHN", importer="USA").sum())
    after = float(ds.magnet_trade.sel(exporter="CHN", importer="USA").sum())
    assert before > 1000.0
    assert after < 0.5 * before
    assert float(ds.fiscal_cost.sel(instrument="usa_magnet_tariff")) == pytest.approx(
        -50 * after / 1000.0, rel=1e-6)


def test_ad_valorem_export_subsidy_raises_trade(world: World, base: xr.Dataset) -> None:
    subsidy = {"id": "ndpr_push", "type": "tariff", "importer": "all", "exporter": "CHN",
               "product": "oxide", "elements": ["NdPr"], "ad_valorem": -0.9, "start": 2024}
    ds = run(world, subsidy).isel(year=0)
    trade = ds.trade.sel(product="oxide", exporter="CHN", element="NdPr").sum()
    before = base.trade.sel(product="oxide", exporter="CHN", element="NdPr").sum()
    assert float(trade) > float(before) + 100.0
    assert float(ds.fiscal_cost.sel(instrument="ndpr_push")) > 0.0


def test_price_floor_runs_plants_and_costs_gap_times_volume(
    world: World, base: xr.Dataset
) -> None:
    floor = {"id": "ndpr_floor", "type": "price_floor", "producers": ["au_sep", "us_sep"],
             "element": "NdPr", "floor_usd_per_kg": 300, "start": 2024, "years": 10,
             "payer": "USA"}
    ds = run(world, floor).isel(year=0)
    assert float(base.facility_output.sel(facility="us_sep")) == 0.0
    assert float(ds.facility_output.sel(facility="us_sep")) > 1000.0
    price = ds.price.sel(stage="separation", element="NdPr")
    gaps = {region: max(0.0, 300 - float(price.sel(region=region, origin="other")))
            for region in ("AUS", "USA")}
    volume = {  # feed x NdPr share x recovery (one deposit class each)
        "AUS": float(ds.facility_output.sel(facility="au_sep")) * 0.23 * 0.95,
        "USA": float(ds.facility_output.sel(facility="us_sep")) * 0.16 * 0.95,
    }
    expected = sum(gaps[r] * volume[r] for r in gaps) / 1000.0
    assert expected > 0
    assert float(ds.fiscal_cost.sel(instrument="ndpr_floor")) == pytest.approx(expected, rel=1e-6)


def test_offtake_routes_output_to_buyer_and_pays_contract_gap(
    world: World, base: xr.Dataset
) -> None:
    offtake = {"id": "jp_offtake", "type": "offtake", "buyer": "JPN", "facility": "us_magnet",
               "share": 0.5, "start": 2024, "years": 10, "price_usd_per_kg": 400}
    assert float(base.magnet_trade.sel(exporter="USA", importer="JPN").sum()) == 0.0
    ds = run(world, offtake).isel(year=0)
    made = float(ds.magnet_production.sel(region="USA").sum())
    shipped = float(ds.magnet_trade.sel(exporter="USA", importer="JPN").sum())
    assert made > 0
    assert shipped >= 0.5 * made - 1e-6
    price = ds.magnet_price.sel(region="USA").clip(min=0.0)  # a surplus grade is worth 0
    made_by_grade = ds.magnet_production.sel(region="USA").sum("origin")
    expected = 0.5 * float(((400 - price) * made_by_grade).sum()) / 1000.0
    assert float(ds.fiscal_cost.sel(instrument="jp_offtake")) == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------- capacity --
def _new_magnet_plant(world: World) -> World:
    return with_facility(world, id="us_new_magnet", name="new", country="USA", stage="magnet",
                         status="announced", nameplate_t=5000, start_year=2028,
                         magnet_grades=["std", "ht"])


def test_capacity_support_advances_and_adds_capacity_and_costs_money(world: World) -> None:
    changed = _new_magnet_plant(world)
    support = {"id": "grant", "type": "capacity_support", "facility": "us_new_magnet",
               "kind": "grant", "amount_usd_m": 250, "advance_years": 3, "adds_t": 1000,
               "from_year": 2027, "start": 2025}
    ds = run(changed, support, years=[2024, 2025, 2026, 2027])
    capacity = ds.facility_capacity.sel(facility="us_new_magnet").values.tolist()
    # start 2028 - 3 years, but never before the grant year 2025; +1000 t/y from 2027
    assert capacity == [0.0, 5000.0, 5000.0, 6000.0]
    assert ds.fiscal_cost.sel(instrument="grant").values.tolist() == [0.0, 250.0, 0.0, 0.0]
    assert float(ds.magnet_production.sel(region="USA", year=2025).sum()) > float(
        ds.magnet_production.sel(region="USA", year=2024).sum())


def test_fast_track_advances_covered_projects(world: World) -> None:
    changed = _new_magnet_plant(world)
    fast = {"id": "fast", "type": "fast_track", "region": "allies",
            "lead_time_reduction_years": 1.5, "start": 2024}
    ds = run(changed, fast, years=[2025, 2026, 2027])
    capacity = ds.facility_capacity.sel(facility="us_new_magnet").values.tolist()
    assert capacity == pytest.approx([0.0, 2500.0, 5000.0])  # half a year's shift interpolated
    late = run(changed, {**fast, "start": 2026}, years=[2026, 2027])
    assert late.facility_capacity.sel(facility="us_new_magnet").values.tolist() == [0.0, 5000.0]


# --------------------------------------------------------------------- stocks and targets --
STOCK = {"id": "usa_ndpr_stock", "type": "stockpile", "region": "USA", "element": "NdPr",
         "target_t": 2500, "fill_rate_t_per_y": 1000, "start": 2025,
         "release": {"price_above_usd_per_kg": 1000}}


def test_stockpile_needs_the_augmented_world_and_fills_to_target(world: World) -> None:
    program = compile_policies(scenario(STOCK), world)
    assert ("USA", "NdPr") in {(s.region, s.element) for s in program.world.stockpiles}
    assert program.world is not world
    with pytest.raises(ValueError, match=r"program\.world"):
        build_market(world, compile_policies(scenario(STOCK), world))
    ds = simulate(program.world, years=[2024, 2025, 2026, 2027], policy=program)
    level = ds.stockpile_level.sel(region="USA", element="NdPr").values
    np.testing.assert_allclose(level, [0.0, 1000.0, 2000.0, 2500.0], atol=1e-6)


def test_stockpile_releases_above_its_price(world: World) -> None:
    release = {**STOCK, "initial_t": 2000, "release": {"price_above_usd_per_kg": 50}}
    ds = run(world, release, years=[2025]).isel(year=0)
    assert float(ds.stockpile_release.sel(region="USA", element="NdPr")) == pytest.approx(2000.0)


def collecting(world: World, rate: float) -> World:
    """``world`` with every magnet sector collecting ``rate`` of its end-of-life magnets."""
    sectors = tuple(s.model_copy(update={"collection_rate": rate}) if s.kind == "magnet" else s
                    for s in world.sectors)
    return world.model_copy(update={"sectors": sectors})


RECYCLING = {"id": "usa_recycling", "type": "recycling_target", "region": "USA", "share": 0.5,
             "from_year": 2024, "by_year": 2025, "path": "step"}


def recycling_outcome(world: World, **fields: Any) -> tuple[float, float, float]:
    """USA recycled oxide, target shortfall and fiscal cost in 2025 (t REO, t REO, USD m)."""
    ds = run(world, {**RECYCLING, **fields}, years=[2024, 2025]).sel(year=2025)
    return (float(ds.recycled.sel(region="USA").sum()),
            float(ds.policy_shortfall.sel(instrument="usa_recycling")),
            float(ds.fiscal_cost.sel(instrument="usa_recycling")))


def test_recycling_target_counts_only_end_of_life_scrap(world: World) -> None:
    """Swarf recycling does not meet an end-of-life target; the shortfall is the honest gap."""
    required = 0.5 * oxide_equivalent_demand(build_network(world), default_inputs(world, 2025),
                                             ["USA"])
    recycled, shortfall, fiscal = recycling_outcome(world)  # tiny world: no collection at all
    assert recycled == pytest.approx(0.0, abs=1e-6)
    assert shortfall == pytest.approx(required, rel=1e-6) and fiscal == 0.0
    swarf_too, short_swarf, _ = recycling_outcome(world, counts=["end_of_life", "pre_consumer"])
    assert swarf_too > 10.0  # the USA's swarf now counts and is recycled
    assert short_swarf == pytest.approx(required - swarf_too, rel=1e-6)


def test_recycling_target_collection_is_the_lever_and_is_paid_for(world: World) -> None:
    some = collecting(world, 0.1)
    base = simulate(some, years=[2024, 2025]).sel(year=2025)
    before = float(base.recycled.sel(region="USA").sum())
    recycled, shortfall, fiscal = recycling_outcome(some)
    assert recycled >= before - 1e-6 and shortfall > 0.0 and fiscal == 0.0
    more, less_short, paid = recycling_outcome(some, collection_rate=0.6)
    assert more > 3 * recycled  # collecting 6x the end-of-life magnets
    assert less_short < shortfall - (more - recycled) + 1e-6
    # paid per kg of the extra scrap collected: at least the extra oxide it yields / recovery
    assert paid >= (more - recycled) * 30.0 / 1000.0 - 1e-6
    _, bench_short, _ = recycling_outcome(some, enforcement="benchmark")
    assert bench_short >= shortfall - 1e-6


def test_sourcing_cap_limits_imports_from_one_country(world: World, base: xr.Dataset) -> None:
    cap = {"id": "allies_cap", "type": "sourcing_cap", "importer": "allies",
           "stage": "separation", "max_share": 0.5, "from_year": 2024}
    ds = run(world, cap).isel(year=0)
    imports = ds.trade.sel(product="oxide", exporter="CHN", importer=ALLIES).sum(
        ["importer", "origin"])
    before = base.trade.sel(product="oxide", exporter="CHN", importer=ALLIES).sum(
        ["importer", "origin"])
    assert float(imports.sum()) < float(before.sum()) - 100.0
    use = ds.consumption.sel(stage="separation", region=ALLIES).sum("region")
    excess = float(ds.policy_shortfall.sel(instrument="allies_cap"))
    over = np.maximum(0.0, (imports - 0.5 * use).values)
    assert over.sum() <= excess + 1e-6


# --------------------------------------------------------------------- demand side --
def test_substitution_serves_part_of_demand(world: World, base: xr.Dataset) -> None:
    sub = {"id": "ferrite", "type": "substitution", "sector": "electronics",
           "technology": "ferrite", "available_from": 2024, "max_share": 0.4,
           "cost_usd_per_kg": 10}
    assert float(base.substituted.sel(sector="electronics").sum()) == 0.0
    ds = run(world, sub).isel(year=0)
    substituted = ds.substituted.sel(sector="electronics")
    np.testing.assert_allclose(substituted.values, 0.4 * ds.demand.sel(sector="electronics"),
                               rtol=1e-6)
    japan_only = run(world, {**sub, "region": "JPN"}).isel(year=0)
    assert float(japan_only.substituted.sel(sector="electronics", region="JPN")) == \
        pytest.approx(0.4 * float(japan_only.demand.sel(sector="electronics", region="JPN")))
    assert float(japan_only.substituted.sel(sector="electronics", region="CHN")) == 0.0


def test_demand_shock_scales_demand_in_its_years(world: World) -> None:
    shock = {"id": "ev_boom", "type": "demand_shock", "sector": "ev", "region": "USA",
             "years": [2025], "factor": 1.5}
    plain = simulate(world, years=[2025, 2026])
    ds = run(world, shock, years=[2025, 2026])
    demand = ds.demand.sel(sector="ev", region="USA")
    before = plain.demand.sel(sector="ev", region="USA")
    assert float(demand.sel(year=2025)) == pytest.approx(1.5 * float(before.sel(year=2025)))
    assert float(demand.sel(year=2026)) == pytest.approx(float(before.sel(year=2026)))
    assert float(ds.demand.sel(sector="ev", region="CHN", year=2025)) == pytest.approx(
        float(plain.demand.sel(sector="ev", region="CHN", year=2025)))
