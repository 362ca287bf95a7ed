import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rareflow.metrics import hhi, market_share
from rareflow.testing import empty_result, put

REGIONS = ["CHN", "USA", "AUS", "MYS"]


@pytest.fixture
def ds():
    ds = empty_result([2030], REGIONS)
    sep = {"year": 2030, "stage": "separation"}
    put(ds, "production", 60.0, region="CHN", element="NdPr", origin="china", **sep)
    put(ds, "production", 10.0, region="CHN", element="La", origin="china", **sep)
    put(ds, "production", 20.0, region="MYS", element="NdPr", origin="other", **sep)
    put(ds, "production", 10.0, region="USA", element="NdPr", origin="china", **sep)
    return ds


def test_market_share_by_region(ds):
    share = market_share(ds, "separation").sel(year=2030)
    assert dict(zip(share["region"].values, share.values, strict=True)) == pytest.approx(
        {"CHN": 0.7, "USA": 0.1, "AUS": 0.0, "MYS": 0.2}
    )
    assert share.attrs["units"] == "1"


def test_market_share_by_origin_and_element(ds):
    by_origin = market_share(ds, "separation", by="origin").sel(year=2030)
    assert float(by_origin.sel(origin="china")) == pytest.approx(0.8)
    ndpr = market_share(ds, "separation", element="NdPr").sel(year=2030)
    assert float(ndpr.sel(region="CHN")) == pytest.approx(60.0 / 90.0)
    per_element = market_share(ds, "separation", element=None)
    assert set(per_element.dims) == {"year", "region", "element"}
    assert float(per_element.sel(year=2030, region="CHN", element="La")) == 1.0


def test_hhi_on_the_10000_scale(ds):
    # 70² + 10² + 0 + 20² = 5400
    assert float(hhi(ds, "separation").sel(year=2030)) == pytest.approx(5400.0)


def test_empty_stage_gives_nan(ds):
    assert math.isnan(float(hhi(ds, "metal").sel(year=2030)))
    assert np.isnan(market_share(ds, "metal").values).all()


def test_bad_by_is_rejected(ds):
    with pytest.raises(ValueError, match="by must be"):
        market_share(ds, "separation", by="element")  # type: ignore[arg-type]


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=4, max_size=4).filter(
    lambda xs: sum(xs) > 1e-6
))
def test_shares_sum_to_one_and_hhi_is_bounded(amounts):
    ds = empty_result([2030], REGIONS)
    for region, amount in zip(REGIONS, amounts, strict=True):
        put(ds, "production", amount, year=2030, stage="magnet", region=region, element="NdPr",
            origin="other")
    share = market_share(ds, "magnet").sel(year=2030)
    assert float(share.sum()) == pytest.approx(1.0)
    assert (share >= 0).all()
    index = float(hhi(ds, "magnet").sel(year=2030))
    producers = sum(1 for amount in amounts if amount > 0)
    assert 10_000 / len(REGIONS) - 1e-6 <= index <= 10_000 + 1e-6
    assert index >= 10_000 / producers - 1e-6
