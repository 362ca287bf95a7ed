import math

import numpy as np
import pytest

from rareflow.metrics import china_origin_content, pool_china_share
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "JPN", "USA", "DEU"]


def magnets(ds, region, tonnes, origin, grade="n42"):
    put(ds, "magnet_production", tonnes, year=2030, region=region, grade=grade, origin=origin)


def send(ds, exporter, importer, tonnes, grade="n42"):
    put(ds, "magnet_trade", tonnes, year=2030, exporter=exporter, importer=importer, grade=grade)


@pytest.fixture
def ds():
    # CHN makes 100 t (all may contain China-origin); JPN makes 80 clean + 20 tainted and imports
    # 50 from CHN; JPN ships 60 to USA; USA makes 40 clean.
    ds = empty_result([2030], REGIONS)
    magnets(ds, "CHN", 100.0, "china")
    magnets(ds, "JPN", 80.0, "other")
    magnets(ds, "JPN", 20.0, "china")
    magnets(ds, "USA", 40.0, "other")
    send(ds, "CHN", "JPN", 50.0)
    send(ds, "JPN", "USA", 60.0)
    return ds


def test_pool_shares_follow_proportional_mixing(ds):
    shares = pool_china_share(ds).sel(year=2030, grade="n42")
    # CHN pool 100 all tainted; JPN pool 150 with 20 + 50 tainted; USA pool 100 with 60·7/15
    assert float(shares.sel(region="CHN")) == pytest.approx(1.0)
    assert float(shares.sel(region="JPN")) == pytest.approx(70.0 / 150.0)
    assert float(shares.sel(region="USA")) == pytest.approx(28.0 / 100.0)
    assert float(shares.sel(region="DEU")) == 1.0  # empty pool: conservative


def test_re_exports_keep_their_taint(ds):
    share = china_origin_content(ds, "USA").sel(year=2030)
    assert float(share) == pytest.approx(0.28)
    # JPN consumes 150 - 60 = 90 t at 7/15
    assert float(china_origin_content(ds, "JPN").sel(year=2030)) == pytest.approx(7.0 / 15.0)


def test_group_aggregates_consumption_weighted(ds):
    # JPN+USA consume 90 + 100 t; tainted 42 + 28
    share = china_origin_content(ds, ["JPN", "USA"]).sel(year=2030)
    assert float(share) == pytest.approx(70.0 / 190.0)


def test_grades_are_traced_separately():
    two = empty_result([2030], REGIONS, grades=["n42", "sh"])
    magnets(two, "USA", 10.0, "other", grade="n42")
    magnets(two, "CHN", 30.0, "china", grade="sh")
    send(two, "CHN", "USA", 30.0, grade="sh")
    assert float(china_origin_content(two, "USA").sel(year=2030)) == pytest.approx(0.75)


def test_self_shipments_are_ignored(ds):
    send(ds, "USA", "USA", 1000.0)
    assert float(china_origin_content(ds, "USA").sel(year=2030)) == pytest.approx(0.28)


def test_no_consumption_is_nan(ds):
    assert math.isnan(float(china_origin_content(ds, "DEU").sel(year=2030)))


def test_reo_basis_uses_origin_tagged_trade():
    ds = empty_result([2030], REGIONS)
    at = {"year": 2030, "stage": "magnet", "region": "USA", "element": "NdPr"}
    put(ds, "production", 3.0, origin="other", **at)
    put(ds, "production", 1.0, origin="china", **at)
    ship(ds, "magnet", "JPN", "USA", 4.0, origin="china", year=2030)
    ship(ds, "magnet", "USA", "DEU", 2.0, origin="other", year=2030)
    # consumed: china 1 + 4 = 5, other 3 - 2 = 1
    share = china_origin_content(ds, "USA", basis="reo").sel(year=2030)
    assert float(share) == pytest.approx(5.0 / 6.0)


def test_draws_pass_through():
    ds = empty_result([2030], REGIONS, draws=2)
    put(ds, "magnet_production", 10.0, region="USA", grade="n42", origin="other")
    put(ds, "magnet_production", 10.0, region="CHN", grade="n42", origin="china")
    put(ds, "magnet_trade", 10.0, draw=1, exporter="CHN", importer="USA", grade="n42")
    np.testing.assert_allclose(china_origin_content(ds, "USA").sel(year=2030), [0.0, 0.5])


def test_bad_basis_is_rejected(ds):
    with pytest.raises(ValueError, match="basis"):
        china_origin_content(ds, "USA", basis="tonnes")  # type: ignore[arg-type]
