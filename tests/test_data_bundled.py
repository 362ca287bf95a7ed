"""The bundled 2024 world reproduces the published calibration figures and is fully cited."""

from __future__ import annotations

import math

import pytest

from rareflow.data.loader import load_world
from rareflow.data.summary import capacity_by_stage, reported_mine, summarize
from rareflow.model.elements import ELEMENTS
from rareflow.model.sourced import Sourced
from rareflow.model.world import World

SEED_FACILITIES = (
    "mp_mountain_pass_mine", "mp_mountain_pass_concentrator", "mp_mountain_pass_separation",
    "mp_independence_metal", "mp_independence_magnets", "mp_10x_magnets",
    "lynas_mt_weld_mine", "lynas_kalgoorlie", "lynas_malaysia_separation", "lynas_seadrift",
    "ef_white_mesa_phase1", "ef_white_mesa_heavy", "ef_white_mesa_phase2", "ucore_louisiana",
    "vulcan_elements_magnets", "reelement_marion", "usar_stillwater_magnets",
    "usar_round_top_mine", "noveon_magnets", "noveon_recycling", "ramaco_brook_mine",
    "critical_metals_tanbreez_mine", "neo_narva_magnets", "neo_silmet_separation",
    "solvay_la_rochelle", "iluka_eneabba_refinery", "arafura_nolans_mine",
    "cnre_bayan_obo_mine", "cnre_separation", "cnre_metal", "cnre_magnets",
    "creg_sichuan_mine", "creg_ionic_clay_mine", "creg_separation", "china_other_separation",
    "china_other_metal", "china_other_magnets", "china_recycling", "myanmar_kachin_mining",
    "shin_etsu_magnets", "tdk_magnets", "proterial_magnets", "irel_separation",
    "solikamsk_separation", "vac_hanau_magnets", "korea_magnets", "laos_ionic_clay_mining",
    "nigeria_monazite_mining", "madagascar_mining", "serra_verde_mine", "thailand_mining",
    "vietnam_separation",
)
REGIONS = ("CHN", "USA", "AUS", "MMR", "MYS", "JPN", "VNM", "BRA", "IND", "THA", "NGA", "MDG",
           "RUS", "LAO", "CAN", "GRL", "EST", "FRA", "DEU", "KOR", "SAU", "ROW")


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


def test_regions_and_groups(world: World) -> None:
    assert set(REGIONS) <= set(world.region_ids)
    assert world.china == "CHN"
    assert set(world.group_members("EU")) == {"EST", "FRA", "DEU"}
    assert set(world.group_members("allies")) == {
        "USA", "AUS", "JPN", "KOR", "CAN", "IND", "EST", "FRA", "DEU", "GRL"}


def test_usgs_2024_mine_production(world: World) -> None:
    mine = reported_mine(world, 2024)
    assert sum(mine.values()) == pytest.approx(390_000, rel=0.02)
    assert mine["CHN"] == 270_000
    assert mine["USA"] == 45_000


def test_mining_capacity_2024_matches_usgs(world: World) -> None:
    mining = {item.stage: item for item in capacity_by_stage(world, 2024)}["mining"]
    assert mining.world_t == pytest.approx(390_000, rel=0.02)
    assert mining.china_t == pytest.approx(270_000, rel=0.001)
    usa = sum(f.capacity_in(2024) for f in world.facilities
              if f.stage == "mining" and f.country == "USA")
    assert usa == pytest.approx(45_000, rel=0.001)
    assert mining.china_share == pytest.approx(0.69, abs=0.03)


def test_mcs_2026_vintage_is_separate(world: World) -> None:
    revised = reported_mine(world, 2024, "USGS MCS 2026")
    assert revised["AUS"] == 29_000
    assert revised["MMR"] == 27_000
    assert revised["NGA"] == 1_500
    assert revised["THA"] == 2_100
    assert sum(revised.values()) == pytest.approx(380_000, rel=0.02)


def test_china_capacity_shares_2024(world: World) -> None:
    stages = {item.stage: item for item in capacity_by_stage(world, 2024)}
    assert 0.85 <= stages["separation"].china_share <= 0.90
    assert 0.90 <= stages["magnet"].china_share <= 0.92
    assert 300_000 <= stages["separation"].china_t <= 370_000
    usa_separation = sum(f.capacity_in(2024) for f in world.facilities
                         if f.stage == "separation" and f.country == "USA")
    assert usa_separation < 15_000


def test_published_stage_shares_hold(world: World) -> None:
    for share in world.stage_shares:
        stages = {item.stage: item for item in capacity_by_stage(world, share.year)}
        item = stages[share.stage]
        region_t = sum(f.capacity_in(share.year) for f in world.facilities
                       if f.stage == share.stage and f.country == share.country)
        assert region_t / item.world_t == pytest.approx(share.share, abs=share.tolerance), share


def _records(world: World) -> list[Sourced]:
    records: list[Sourced] = [world.trade]
    for name in ("regions", "deposits", "facilities", "magnet_grades", "sectors", "demand",
                 "reference_prices", "mine_production", "stage_shares", "stockpiles", "scrap"):
        records.extend(getattr(world, name))
    return records


def test_every_record_has_source_or_assumption(world: World) -> None:
    for record in _records(world):
        text = (record.source or "").strip() + (record.assumption or "").strip()
        assert text, record


def test_seed_facilities_exist(world: World) -> None:
    ids = {f.id for f in world.facilities}
    assert not set(SEED_FACILITIES) - ids
    assert len(world.facilities) >= 40


def test_deposits_cover_the_main_ore_types(world: World) -> None:
    assert len(world.deposits) >= 12
    for deposit in world.deposits:
        assert math.isclose(sum(deposit.shares.values()), 1.0, abs_tol=1e-3)
        assert set(deposit.shares) == set(ELEMENTS)
    classes = {d.deposit_class for d in world.deposits}
    assert {"bastnasite", "ionic_clay", "monazite_sand", "xenotime", "eudialyte",
            "coal_byproduct", "mixed"} <= classes


def test_key_milestones(world: World) -> None:
    assert world.facility("mp_10x_magnets").capacity_in(2027) == 0
    assert world.facility("mp_10x_magnets").capacity_in(2030) == 9_000
    assert world.facility("ef_white_mesa_heavy").capacity_in(2025) == 0
    assert world.facility("ef_white_mesa_heavy").capacity_in(2026) > 0
    assert world.facility("lynas_seadrift").status == "announced"
    mp = world.facility("mp_mountain_pass_separation")
    nd_share = world.deposit("mountain_pass").shares["NdPr"]
    assert mp.capacity_in(2024) * nd_share * 0.9 == pytest.approx(1_294, rel=0.1)


def test_magnet_grades_and_sectors(world: World) -> None:
    grades = {g.id: g for g in world.magnet_grades}
    assert {"ndfeb_standard", "ndfeb_mid", "ndfeb_high_temp", "ndfeb_gbd", "smco"} <= set(grades)
    assert "Dy" not in grades["ndfeb_standard"].content_kg_reo_per_t
    high = grades["ndfeb_high_temp"].content_kg_reo_per_t
    assert high["Dy"] > 0 and high["Tb"] > 0
    sectors = {s.id: s for s in world.sectors}
    assert set(sectors) == {"ev", "wind", "electronics", "industrial_motors", "defence", "other"}
    assert max(sectors.values(), key=lambda s: s.priority).id == "defence"
    assert {r.element for r in world.demand if r.sector == "other"} == set(ELEMENTS)
    # demand is inelastic in the short run, defence most of all
    assert all(0 < s.elasticity <= 0.5 for s in sectors.values())
    assert min(sectors.values(), key=lambda s: s.elasticity).id == "defence"
    for sector in sectors.values():
        if sector.kind == "magnet":
            assert max(sector.growth) >= 2025
            assert 0 <= sector.collection_rate <= 0.1
            assert 0.25 <= sector.swarf_share <= 0.3
    assert sectors["ev"].lifetime_mean_years == 15
    assert sectors["wind"].lifetime_mean_years == 25


def test_demand_balances_supply(world: World) -> None:
    summary = summarize(world)
    magnets = sum(summary.magnet_demand_t.values())
    # SMM: ≈ 260 kt of magnet blanks made in China in 2024, ≈ 195 kt net of 25 % swarf
    assert 185_000 <= magnets <= 230_000
    china = sum(r.tonnes for r in world.demand if r.element is None and r.region == "CHN")
    assert china / magnets > 0.5
    recycled_ndpr = sum(s.t for s in world.scrap if s.element == "NdPr" and s.year == 2024)
    ndpr_supply = summary.mined_by_element_t["NdPr"] + recycled_ndpr
    assert ndpr_supply == pytest.approx(100_000, rel=0.2)
    # co-products are anchored at their apparent consumption: what was mined, less losses
    for element in ("La", "Ce"):
        ratio = summary.oxide_demand_t[element] / summary.mined_by_element_t[element]
        assert 0.75 <= ratio <= 1.0, element


def test_reference_prices(world: World) -> None:
    prices = {(p.element, p.market): p.usd_per_kg for p in world.reference_prices}
    assert prices[("NdPr", "outside_china")] == 55
    assert prices[("Dy", "outside_china")] == 260
    assert prices[("Tb", "outside_china")] == 810
    assert prices[("Ce", "outside_china")] == 1.21
    assert prices[("NdPr", "china")] == pytest.approx(53.6)
    assert {e for e, market in prices if market == "outside_china"} == set(ELEMENTS)


def test_tariffs_start_in_their_year(world: World) -> None:
    assert "CHN>USA:magnet" not in world.trade.tariffs_in(2025)
    assert world.trade.tariffs_in(2026)["CHN>USA:magnet"] > 0


def test_china_scrap_2024_matches_argus(world: World) -> None:
    china = [s for s in world.scrap if s.region == "CHN" and s.year == 2024]
    assert sum(s.t for s in china) == pytest.approx(34_147)
    by_element = {s.element: s.t for s in china}
    assert (by_element["NdPr"], by_element["Dy"], by_element["Tb"]) == (26_504, 710, 160)
