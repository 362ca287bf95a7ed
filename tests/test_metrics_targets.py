"""Stated targets: the US reliance goal and the CRMA benchmarks, met or missed per year."""

import math

import pytest

from rareflow.metrics import target_checks
from rareflow.metrics.targets import is_met
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "USA", "DEU", "FRA", "AUS"]
EU = ["DEU", "FRA"]


def _us_case():
    """US oxide: 2029 imports 60 of 100 (60 %), 2030 imports 40 of 100 (40 %)."""
    ds = empty_result([2029, 2030], REGIONS)
    for year, made, bought in ((2029, 40.0, 60.0), (2030, 60.0, 40.0)):
        put(ds, "production", made, year=year, stage="separation", region="USA",
            element="NdPr", origin="other")
        ship(ds, "oxide", "CHN", "USA", bought, origin="china", year=year)
    return ds


def _row(table, target, region, year, definition=None):
    rows = table[(table.target == target) & (table.region == region) & (table.year == year)]
    if definition is not None:
        rows = rows[rows.definition.str.startswith(definition)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_us_reliance_goal_missed_then_met():
    table = target_checks(_us_case(), us_members=["USA"])
    goal = "net import reliance < 50 % by 2030"
    missed = _row(table, goal, "USA", 2029, "USGS")
    met = _row(table, goal, "USA", 2030, "USGS")
    assert (missed.value, bool(missed.met)) == (pytest.approx(0.6), False)
    assert (met.value, bool(met.met)) == (pytest.approx(0.4), True)
    assert met.due == 2030


def test_imported_magnets_can_miss_the_goal_the_usgs_scope_meets():
    ds = _us_case()
    ship(ds, "magnet", "CHN", "USA", 50.0, origin="china", year=2030)
    table = target_checks(ds, us_members=["USA"])
    goal = "net import reliance < 50 % by 2030"
    assert bool(_row(table, goal, "USA", 2030, "USGS").met)
    embedded = _row(table, goal, "USA", 2030, "embedded")
    assert embedded.value == pytest.approx(90.0 / 150.0)
    assert not bool(embedded.met)


def test_crma_benchmarks_and_cap_per_year():
    ds = empty_result([2030], REGIONS)
    at = {"year": 2030, "element": "NdPr"}
    put(ds, "consumption", 100.0, stage="separation", region="DEU", **at)
    put(ds, "production", 45.0, stage="separation", region="DEU", origin="other", **at)
    put(ds, "production", 12.0, stage="mining", region="FRA", origin="other", **at)
    put(ds, "recycled", 5.0, region="DEU", element="NdPr")
    put(ds, "production", 55.0, stage="separation", region="CHN", origin="china", **at)
    ship(ds, "oxide", "CHN", "DEU", 55.0, origin="china", year=2030)
    table = target_checks(ds, eu_members=EU)
    met = {row.target: bool(row.met) for row in table.itertuples()}
    assert met["CRMA extraction ≥ 10 %"]
    assert met["CRMA processing ≥ 40 %"]
    assert not met["CRMA recycling ≥ 25 %"]
    assert met["CRMA single third country ≤ 65 % (separation)"]
    cap = _row(table, "CRMA single third country ≤ 65 % (separation)", "EU", 2030)
    assert cap.value == pytest.approx(0.55)
    assert cap.note == "largest: CHN"
    # no metal consumed: a cap on nothing is met, and says so
    metal = _row(table, "CRMA single third country ≤ 65 % (metal)", "EU", 2030)
    assert math.isnan(metal.value) and bool(metal.met)
    assert metal.note == "no third-country supply"


def test_comparisons():
    assert is_met(0.4, "<", 0.5) and not is_met(0.5, "<", 0.5)
    assert is_met(0.65 + 1e-9, "≤", 0.65) and not is_met(0.66, "≤", 0.65)
    assert is_met(0.1, "≥", 0.1) and not is_met(0.09, "≥", 0.1)
    assert not is_met(math.nan, "≥", 0.1)
    assert is_met(math.nan, "≤", 0.65, undefined_met=True)
    with pytest.raises(ValueError, match="one run"):
        target_checks(empty_result([2030], REGIONS, draws=2), us_members=["USA"])
