import math

import numpy as np
import pytest

from rareflow.metrics import (
    apparent_consumption,
    embedded_net_import_reliance,
    embedded_reliance_by_origin,
    exports,
    format_reliance,
    imports,
    imports_by_partner,
    net_import_reliance,
    scope_apparent_consumption,
    usgs_net_import_reliance,
)
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "USA", "JPN", "AUS"]


def scalar(da):
    return float(da.squeeze(drop=True))


@pytest.fixture
def ds():
    ds = empty_result([2030], REGIONS)
    at = {"year": 2030, "element": "NdPr"}
    put(ds, "production", 10.0, stage="separation", region="USA", origin="other", **at)
    put(ds, "production", 20.0, stage="separation", region="JPN", origin="other", **at)
    ship(ds, "oxide", "CHN", "USA", 20.0, origin="china")
    ship(ds, "oxide", "AUS", "USA", 10.0)
    ship(ds, "oxide", "USA", "JPN", 5.0)
    ship(ds, "oxide", "CHN", "JPN", 10.0, origin="china")
    ship(ds, "oxide", "USA", "USA", 99.0)  # a domestic flow must not count as trade
    put(ds, "stockpile_release", 5.0, region="USA", element="NdPr")
    return ds


def test_usgs_formula_for_one_region(ds):
    # AC = P + M - X + R = 10 + 30 - 5 + 5 = 40; NIR = (30 - 5 + 5) / 40
    nir = net_import_reliance(ds, "separation", "USA", "NdPr")
    assert nir.dims == ("year",)
    assert float(nir.sel(year=2030)) == pytest.approx(0.75)
    assert scalar(apparent_consumption(ds, "separation", "USA", "NdPr")) == pytest.approx(40.0)
    assert nir.attrs["units"] == "1"


def test_intra_group_trade_nets_out(ds):
    # group USA+JPN: P = 30, M = 20 + 10 + 10 = 40, X = 0 (USA->JPN internal), R = 5
    nir = net_import_reliance(ds, "separation", ["USA", "JPN"], "NdPr")
    assert float(nir.sel(year=2030)) == pytest.approx(45.0 / 75.0)


def test_stock_release_only_at_the_stockpile_stage(ds):
    ship(ds, "metal", "CHN", "USA", 4.0, origin="china")
    put(ds, "production", 4.0, year=2030, stage="metal", region="USA", element="NdPr",
        origin="other")
    nir = net_import_reliance(ds, "metal", "USA", "NdPr")
    assert float(nir.sel(year=2030)) == pytest.approx(0.5)
    without_stock = net_import_reliance(ds, "separation", "USA", "NdPr", stock_stage=None)
    assert float(without_stock.sel(year=2030)) == pytest.approx(25.0 / 35.0)


def test_mining_and_concentration_use_concentrate(ds):
    put(ds, "production", 6.0, year=2030, stage="mining", region="USA", element="La",
        origin="other")
    ship(ds, "concentrate", "AUS", "USA", 2.0, element="La")
    for stage in ("mining", "concentration"):
        assert scalar(net_import_reliance(ds, stage, "USA", "La")) == pytest.approx(
            2.0 / 8.0 if stage == "mining" else 1.0
        )


def test_net_exporter_is_negative_and_formats_as_E(ds):
    put(ds, "production", 30.0, year=2030, stage="separation", region="AUS", element="NdPr",
        origin="other")
    # AUS: P = 30, X = 10 -> AC = 20, NIR = -10 / 20
    nir = scalar(net_import_reliance(ds, "separation", "AUS", "NdPr"))
    assert nir == pytest.approx(-10.0 / 20.0)
    assert format_reliance(nir) == "E"
    assert format_reliance(0.754) == "75 %"
    assert format_reliance(0.754, digits=1) == "75.4 %"
    assert format_reliance(math.nan) == "n/a"


def test_zero_apparent_consumption_is_nan_not_an_error(ds):
    nir = net_import_reliance(ds, "separation", "USA", "Dy")
    assert math.isnan(scalar(nir))


def test_element_conventions(ds):
    put(ds, "production", 10.0, year=2030, stage="separation", region="USA", element="Dy",
        origin="other")
    by_element = net_import_reliance(ds, "separation", "USA")
    assert set(by_element.dims) == {"year", "element"}
    assert scalar(by_element.sel(element="Dy")) == 0.0
    assert math.isnan(scalar(by_element.sel(element="Tb")))
    # totals: sum numerator and denominator first: (30 - 5 + 5) / (40 + 10)
    total = net_import_reliance(ds, "separation", "USA", "total")
    listed = net_import_reliance(ds, "separation", "USA", ["NdPr", "Dy"])
    assert scalar(total) == pytest.approx(0.6)
    assert scalar(listed) == pytest.approx(0.6)


def test_trade_helpers(ds):
    assert scalar(imports(ds, "oxide", "USA").sel(element="NdPr")) == 30.0
    assert scalar(exports(ds, "oxide", "USA").sel(element="NdPr")) == 5.0
    by_origin = imports(ds, "oxide", "USA", by_origin=True).sel(year=2030, element="NdPr")
    np.testing.assert_array_equal(by_origin.sel(origin=["china", "other"]), [20.0, 10.0])
    partners = imports_by_partner(ds, "oxide", ["USA", "JPN"]).sel(year=2030, element="NdPr")
    assert dict(zip(partners["exporter"].values, partners.values, strict=True)) == {
        "CHN": 30.0,
        "AUS": 10.0,
    }


def test_recycling_stage_has_no_product(ds):
    with pytest.raises(ValueError, match="no traded product"):
        net_import_reliance(ds, "recycling", "USA")


def test_ensemble_draws_pass_through():
    ds = empty_result([2030, 2031], REGIONS, draws=2)
    put(ds, "production", 10.0, stage="separation", region="USA", element="NdPr", origin="other")
    ship(ds, "oxide", "CHN", "USA", 10.0, draw=1)
    nir = net_import_reliance(ds, "separation", "USA", "NdPr")
    assert set(nir.dims) == {"draw", "year"}
    np.testing.assert_allclose(nir.sel(year=2031), [0.0, 0.5])


def test_usgs_scope_takes_oxide_and_metal_as_one_material(ds):
    """Compounds and metals: P = separated oxide; metal counts, concentrate and magnets do not."""
    ship(ds, "metal", "CHN", "USA", 8.0, origin="china")
    ship(ds, "metal", "USA", "JPN", 3.0)
    ship(ds, "concentrate", "AUS", "USA", 50.0)
    ship(ds, "magnet", "CHN", "USA", 70.0, origin="china")
    put(ds, "production", 6.0, year=2030, stage="metal", region="USA", element="NdPr",
        origin="other")  # made from oxide already counted: not production again
    # M - X + R = (30 - 5) + (8 - 3) + 5 = 35; AC = 10 + 35 = 45
    nir = usgs_net_import_reliance(ds, "USA")
    assert float(nir.sel(year=2030)) == pytest.approx(35.0 / 45.0)
    assert nir.attrs["units"] == "1"
    assert scalar(scope_apparent_consumption(ds, "USA", "total")) == pytest.approx(45.0)


def test_embedded_reliance_counts_the_content_of_imported_magnets_by_origin(ds):
    ship(ds, "magnet", "CHN", "USA", 70.0, origin="china")
    ship(ds, "magnet", "JPN", "USA", 20.0, origin="china")  # Chinese metal in a Japanese magnet
    ship(ds, "magnet", "USA", "AUS", 10.0)
    # oxide: M - X = 25, R = 5; magnets: 90 - 10 = 80; AC = 10 + 110 = 120
    embedded = embedded_net_import_reliance(ds, "USA", "NdPr")
    assert float(embedded.sel(year=2030)) == pytest.approx(110.0 / 120.0)
    assert float(usgs_net_import_reliance(ds, "USA", "NdPr").sel(year=2030)) == pytest.approx(0.75)
    by_origin = embedded_reliance_by_origin(ds, "USA", "NdPr").sel(year=2030)
    # china: oxide 20 + magnets 90; other: oxide 10 - 5, magnets -10
    assert float(by_origin.sel(origin="china")) == pytest.approx(110.0 / 120.0)
    assert float(by_origin.sel(origin="other")) == pytest.approx(-5.0 / 120.0)
    assert float(by_origin.sum("origin")) + 5.0 / 120.0 == pytest.approx(float(embedded.sel(
        year=2030)))
