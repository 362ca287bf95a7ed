"""``mp-dod-2025`` on the bundled world: the deal makes the 10X plant run, keeps floored oxide
out of China and splits its fiscal cost (issue #18's done-when)."""

from __future__ import annotations

import pytest
import xarray as xr

from rareflow.runs.runner import run_scenario

YEARS = range(2024, 2031)


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return run_scenario("mp-dod-2025", years=YEARS).result


def test_10x_plant_produces_along_its_ramp(ds: xr.Dataset) -> None:
    output = ds.facility_output.sel(facility="mp_10x_magnets")
    capacity = ds.facility_capacity.sel(facility="mp_10x_magnets")
    for year in (2028, 2029, 2030):
        assert float(capacity.sel(year=year)) > 0
        assert float(output.sel(year=year)) >= 0.95 * float(capacity.sel(year=year))


def test_no_floored_oxide_goes_to_china(ds: xr.Dataset) -> None:
    where = ds.floor_destination.sel(instrument="dod_mp_ndpr_floor")
    assert float(where.sel(region="CHN").sum()) == 0.0
    assert float(where.sel(year=2030).sum()) > 1_000
    # MP's halt: the US sends China at most what the other US concentrators make
    concentrate = ds.trade.sel(product="concentrate", exporter="USA", importer="CHN")
    others = ds.facility_output.sel(facility=["chemours_hms_concentration",
                                              "usar_round_top_concentration",
                                              "ramaco_brook_concentration"]).sum("facility")
    late = slice(2026, 2030)
    assert (concentrate.sum(["element", "origin"]).sel(year=late)
            <= others.sel(year=late) + 1e-6).all()


def test_fiscal_cost_is_split_into_its_parts(ds: xr.Dataset) -> None:
    parts = ds.fiscal_cost_component.sel(year=slice(2028, 2030)).sum("instrument")
    for component in ("floor_payment", "offtake_net_cost", "loan_expected_loss"):
        assert (parts.sel(component=component) > 0).all(), component
    equity = ds.fiscal_cost_component.sel(instrument="dod_mp_equity")
    assert float(equity.sel(year=2025, component="equity_expected_loss")) == pytest.approx(100.0)
    xr.testing.assert_allclose(ds.fiscal_cost_component.sum("component"), ds.fiscal_cost)
