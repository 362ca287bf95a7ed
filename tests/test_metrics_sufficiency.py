import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rareflow.metrics import self_sufficiency_share, self_sufficiency_year
from rareflow.metrics.sufficiency import first_sufficient_year, sufficient_from
from rareflow.testing import empty_result, put, ship

YEARS = [2026, 2027, 2028, 2029, 2030]
REGIONS = ["CHN", "USA", "JPN", "AUS"]


def case(domestic, consumption=100.0, from_japan=0.0):
    """USA magnet NdPr: production per year, constant consumption, imports from JPN and CHN."""
    ds = empty_result(YEARS, REGIONS)
    for year, amount in zip(YEARS, domestic, strict=True):
        put(ds, "production", amount, year=year, stage="magnet", region="USA", element="NdPr",
            origin="other")
    put(ds, "consumption", consumption, stage="magnet", region="USA", element="NdPr")
    if from_japan:
        ship(ds, "magnet", "JPN", "USA", from_japan)
    ship(ds, "magnet", "CHN", "USA", 50.0, origin="china")
    return ds


def test_share_is_domestic_production_over_consumption():
    ds = case([10, 20, 50, 90, 95])
    share = self_sufficiency_share(ds, "USA", "magnet", "NdPr")
    np.testing.assert_allclose(share.values, [0.1, 0.2, 0.5, 0.9, 0.95])
    assert share.attrs["units"] == "1"


def test_first_year_at_threshold_that_holds_to_the_end():
    ds = case([10, 20, 50, 90, 95])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") == 2029
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr", threshold=0.5) == 2028


def test_never_sufficient_is_none():
    ds = case([10, 20, 50, 60, 89])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") is None


def test_dip_below_threshold_moves_the_year_past_the_dip():
    ds = case([95, 95, 80, 95, 95])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") == 2029


def test_dip_in_the_last_year_is_never():
    ds = case([95, 95, 95, 95, 80])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") is None


def test_allied_imports_count_but_china_imports_do_not():
    ds = case([10, 20, 50, 60, 70], from_japan=30.0)
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") is None
    allied = self_sufficiency_share(ds, "USA", "magnet", "NdPr", allied_members=["JPN", "AUS"])
    np.testing.assert_allclose(allied.values, [0.4, 0.5, 0.8, 0.9, 1.0])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr", allied_members=["JPN"]) == 2029


def test_allied_trade_within_the_group_is_not_double_counted():
    ds = case([10, 20, 50, 60, 70], from_japan=30.0)
    put(ds, "production", 30.0, stage="magnet", region="JPN", element="NdPr", origin="other")
    # group USA+JPN: JPN's 30 t counts once, as group production; consumption only USA's
    share = self_sufficiency_share(ds, ["USA", "JPN"], "magnet", "NdPr", allied_members=["JPN"])
    np.testing.assert_allclose(share.values, [0.4, 0.5, 0.8, 0.9, 1.0])


def test_zero_consumption_is_nan_and_not_sufficient():
    ds = case([10, 20, 50, 90, 95], consumption=0.0)
    share = self_sufficiency_share(ds, "USA", "magnet", "NdPr")
    assert np.isnan(share.values).all()
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") is None


def test_element_list_sums_before_dividing():
    ds = case([10, 20, 50, 90, 95])
    put(ds, "consumption", 100.0, stage="magnet", region="USA", element="Dy")
    share = self_sufficiency_share(ds, "USA", "magnet", ["NdPr", "Dy"])
    np.testing.assert_allclose(share.values, [0.05, 0.1, 0.25, 0.45, 0.475])


def test_unsorted_years_are_handled():
    ds = case([10, 20, 50, 90, 95]).isel(year=[4, 2, 0, 3, 1])
    assert self_sufficiency_year(ds, "USA", "magnet", "NdPr") == 2029


def test_single_run_only():
    ds = empty_result(YEARS, REGIONS, draws=2)
    with pytest.raises(ValueError, match="ensemble"):
        self_sufficiency_year(ds, "USA", "magnet", "NdPr")


@given(st.lists(st.sampled_from([0.0, 0.5, 0.89, 0.9, 1.2, math.nan]), min_size=1, max_size=8))
def test_first_year_matches_brute_force(values):
    import xarray as xr

    years = list(range(2030, 2030 + len(values)))
    share = xr.DataArray(values, dims="year", coords={"year": years})
    expected = next(
        (y for i, y in enumerate(years) if all(v >= 0.9 for v in values[i:])), None
    )
    first = float(first_sufficient_year(share, 0.9))
    assert (None if math.isnan(first) else int(first)) == expected
    holds = sufficient_from(share, 0.9).values.tolist()
    assert holds == sorted(holds)  # monotone: once from, always from


def test_chinese_material_through_an_ally_or_made_up_at_home_is_not_trusted():
    """Origin, not route: China-tagged magnets from Japan and China-tagged US output don't count."""
    ds = case([10, 20, 50, 60, 70], from_japan=30.0)
    ship(ds, "magnet", "JPN", "USA", 25.0, origin="china")  # Chinese material via Japan
    put(ds, "production", 15.0, stage="magnet", region="USA", element="NdPr", origin="china")
    allied = self_sufficiency_share(ds, "USA", "magnet", "NdPr", allied_members=["JPN"])
    np.testing.assert_allclose(allied.values, [0.4, 0.5, 0.8, 0.9, 1.0])
    domestic = self_sufficiency_share(ds, "USA", "magnet", "NdPr")
    np.testing.assert_allclose(domestic.values, [0.1, 0.2, 0.5, 0.6, 0.7])
