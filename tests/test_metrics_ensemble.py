import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from rareflow.metrics import fan, self_sufficiency_probability, self_sufficiency_years
from rareflow.testing import empty_result, put

YEARS = [2028, 2029, 2030, 2031]


def ensemble(paths):
    """Four draws of US NdPr magnet production per year against a consumption of 100 t."""
    ds = empty_result(YEARS, ["CHN", "USA"], draws=len(paths))
    for draw, path in enumerate(paths):
        for year, amount in zip(YEARS, path, strict=True):
            put(ds, "production", amount, draw=draw, year=year, stage="magnet", region="USA",
                element="NdPr", origin="other")
    put(ds, "consumption", 100.0, stage="magnet", region="USA", element="NdPr")
    return ds


PATHS = [
    [95, 95, 95, 95],  # from 2028
    [50, 95, 80, 95],  # dips: from 2031
    [50, 50, 95, 95],  # from 2030
    [50, 50, 50, 50],  # never
]


def test_years_per_draw():
    years = self_sufficiency_years(ensemble(PATHS), "USA", "magnet", "NdPr")
    assert years.dims == ("draw",)
    values = years.values.tolist()
    assert values[:3] == [2028.0, 2031.0, 2030.0]
    assert math.isnan(values[3])


def test_probability_by_year_counts_draws_sufficient_from_then_on():
    p = self_sufficiency_probability(ensemble(PATHS), "USA", "magnet", "NdPr")
    assert p.dims == ("year",)
    np.testing.assert_allclose(p.values, [0.25, 0.25, 0.5, 0.75])
    lower = self_sufficiency_probability(ensemble(PATHS), "USA", "magnet", "NdPr", threshold=0.5)
    np.testing.assert_allclose(lower.values, [1.0, 1.0, 1.0, 1.0])


def test_probability_needs_draws():
    with pytest.raises(ValueError, match="draw"):
        self_sufficiency_probability(empty_result(YEARS, ["USA"]), "USA", "magnet", "NdPr")


def test_fan_percentiles_per_year():
    values = np.array([[float(d * 10 + y) for y in range(3)] for d in range(11)])  # draw x year
    da = xr.DataArray(values, dims=("draw", "year"), coords={"year": [2030, 2031, 2032]},
                      name="price", attrs={"units": "USD/kg"})
    bands = fan(da)
    assert bands.dims == ("percentile", "year")
    assert bands["percentile"].values.tolist() == [5, 25, 50, 75, 95]
    np.testing.assert_allclose(bands.sel(year=2030).values, [5.0, 25.0, 50.0, 75.0, 95.0])
    np.testing.assert_allclose(bands.sel(percentile=50).values, [50.0, 51.0, 52.0])
    assert bands.attrs == {"units": "USD/kg"}
    assert bands.name == "price"


def test_fan_skips_nan_and_all_nan_is_nan():
    da = xr.DataArray([[1.0, np.nan], [3.0, np.nan], [np.nan, np.nan]], dims=("draw", "year"),
                      coords={"year": [2030, 2031]})
    bands = fan(da, percentiles=(0, 50, 100))
    np.testing.assert_allclose(bands.sel(year=2030).values, [1.0, 2.0, 3.0])
    assert np.isnan(bands.sel(year=2031).values).all()


def test_fan_rejects_bad_input():
    da = xr.DataArray([1.0, 2.0], dims="year")
    with pytest.raises(ValueError, match="draw"):
        fan(da)
    with pytest.raises(ValueError, match="percentiles"):
        fan(da.rename(year="draw"), percentiles=(50, 120))


@given(st.lists(st.lists(st.sampled_from([0.0, 50.0, 90.0, 100.0]), min_size=4, max_size=4),
                min_size=1, max_size=6))
def test_probability_is_monotone_and_matches_years(paths):
    ds = ensemble(paths)
    p = self_sufficiency_probability(ds, "USA", "magnet", "NdPr").values
    assert np.all(np.diff(p) >= 0)
    assert ((p >= 0) & (p <= 1)).all()
    years = self_sufficiency_years(ds, "USA", "magnet", "NdPr").values
    for year, prob in zip(YEARS, p, strict=True):
        assert prob == pytest.approx(np.mean(np.nan_to_num(years, nan=9999) <= year))
