"""recycled_share, stockpile_cover_months, crma_compliance."""

import math

import numpy as np
import pytest

from rareflow.metrics import (
    crma_compliance,
    recycled_share,
    stockpile_cover_months,
    third_country_shares,
)
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "USA", "DEU", "FRA", "EST", "AUS"]
EU = ["DEU", "FRA", "EST"]


def test_recycled_share_of_oxide_consumption():
    ds = empty_result([2030], REGIONS)
    put(ds, "recycled", 5.0, region="USA", element="NdPr")
    put(ds, "recycled", 1.0, region="USA", element="Dy")
    put(ds, "consumption", 20.0, stage="separation", region="USA", element="NdPr")
    put(ds, "consumption", 4.0, stage="separation", region="USA", element="Dy")
    put(ds, "consumption", 999.0, stage="magnet", region="USA", element="NdPr")
    assert float(recycled_share(ds, "USA", "NdPr").sel(year=2030)) == 0.25
    assert float(recycled_share(ds, "USA", "total").sel(year=2030)) == 0.25
    per_element = recycled_share(ds, "USA").sel(year=2030)
    assert math.isnan(float(per_element.sel(element="Tb")))
    assert math.isnan(float(recycled_share(ds, "DEU", "total").sel(year=2030)))


def test_stockpile_cover_in_months():
    ds = empty_result([2030, 2031], REGIONS)
    put(ds, "stockpile_level", 50.0, region="USA", element="Dy")
    put(ds, "consumption", 600.0, year=2030, stage="separation", region="USA", element="Dy")
    cover = stockpile_cover_months(ds, "USA", "Dy", basis="stage")
    assert float(cover.sel(year=2030)) == 1.0
    assert math.isnan(float(cover.sel(year=2031)))  # zero consumption
    assert cover.attrs["units"] == "months"


def test_stockpile_cover_over_solver_noise_is_undefined():
    """A consumption of 1e-12 t is LP round-off: the cover is NaN, not 6e14 months."""
    ds = empty_result([2030], REGIONS)
    put(ds, "stockpile_level", 50.0, region="USA", element="Dy")
    put(ds, "consumption", 1e-12, stage="separation", region="USA", element="Dy")
    assert math.isnan(float(stockpile_cover_months(ds, "USA", "Dy", basis="stage").sel(year=2030)))
    assert math.isnan(float(stockpile_cover_months(ds, "USA", "Dy").sel(year=2030)))


def test_stockpile_cover_counts_the_dy_inside_imported_magnets():
    """Oxide use 10 t/y + 110 t/y of Dy in imported magnets: 20 t lasts 2 months, not 24."""
    ds = empty_result([2030], REGIONS)
    put(ds, "stockpile_level", 20.0, region="USA", element="Dy")
    put(ds, "consumption", 10.0, stage="separation", region="USA", element="Dy")
    ship(ds, "oxide", "CHN", "USA", 10.0, element="Dy", origin="china")
    oxide_only = float(stockpile_cover_months(ds, "USA", "Dy").sel(year=2030))
    assert oxide_only == pytest.approx(24.0)
    ship(ds, "magnet", "CHN", "USA", 110.0, element="Dy", origin="china")
    embedded = float(stockpile_cover_months(ds, "USA", "Dy").sel(year=2030))
    assert embedded == pytest.approx(2.0)
    assert embedded < oxide_only
    assert float(stockpile_cover_months(ds, "USA", "Dy", basis="stage").sel(year=2030)) == 24.0
    with pytest.raises(ValueError, match="basis"):
        stockpile_cover_months(ds, "USA", "Dy", basis="magnet")  # type: ignore[arg-type]


@pytest.fixture
def eu():
    """Balanced NdPr oxide: DEU 60 = CHN 40 + EST 20; FRA 40 = CHN 30 + AUS 5 + recycled 5."""
    ds = empty_result([2030], REGIONS)
    at = {"year": 2030, "element": "NdPr"}
    put(ds, "consumption", 60.0, stage="separation", region="DEU", **at)
    put(ds, "consumption", 40.0, stage="separation", region="FRA", **at)
    put(ds, "production", 70.0, stage="separation", region="CHN", origin="china", **at)
    ship(ds, "oxide", "CHN", "DEU", 40.0, origin="china", year=2030)
    ship(ds, "oxide", "CHN", "FRA", 30.0, origin="china", year=2030)
    put(ds, "production", 5.0, stage="separation", region="AUS", origin="other", **at)
    ship(ds, "oxide", "AUS", "FRA", 5.0, year=2030)
    ship(ds, "oxide", "EST", "DEU", 20.0, year=2030)  # intra-EU: not a third country
    put(ds, "production", 20.0, stage="separation", region="EST", origin="other", **at)
    put(ds, "production", 5.0, stage="recycling", region="FRA", origin="other", **at)
    put(ds, "recycled", 5.0, region="FRA", element="NdPr")
    return ds


def test_crma_single_supplier_cap(eu):
    check = crma_compliance(eu, EU, "separation").sel(year=2030)
    assert float(check["largest_share"]) == pytest.approx(0.70)
    assert str(check["largest_supplier"].values) == "CHN"
    assert not bool(check["within_cap"])
    assert float(check["domestic_share"]) == pytest.approx(0.25)  # EST 20 + FRA recycled 5
    assert bool(crma_compliance(eu, EU, "separation", cap=0.7).sel(year=2030)["within_cap"])


def test_crma_processing_and_recycling_benchmarks(eu):
    check = crma_compliance(eu, EU, "separation").sel(year=2030)
    assert float(check["processing_share"]) == pytest.approx(0.20)
    assert not bool(check["processing_ok"])
    assert float(check["recycling_share"]) == pytest.approx(0.05)
    assert not bool(check["recycling_ok"])
    put(eu, "production", 40.0, year=2030, stage="separation", region="FRA", element="La",
        origin="other")
    put(eu, "recycled", 25.0, region="DEU", element="NdPr")
    better = crma_compliance(eu, EU, "separation").sel(year=2030)
    assert bool(better["processing_ok"])  # 60 / 100 (all elements)
    assert bool(better["recycling_ok"])  # 30 / 100
    assert float(crma_compliance(eu, EU, "separation", element="NdPr")
                 .sel(year=2030)["processing_share"]) == pytest.approx(0.2)


def test_crma_without_imports_or_consumption(eu):
    check = crma_compliance(eu, EU, "metal").sel(year=2030)
    assert math.isnan(float(check["largest_share"]))
    assert str(check["largest_supplier"].values) == ""
    assert not bool(check["within_cap"])
    everyone = crma_compliance(eu, REGIONS, "separation").sel(year=2030)
    assert float(everyone["largest_share"]) == 0.0
    assert bool(everyone["within_cap"])


def test_crma_draws_pass_through():
    ds = empty_result([2030], REGIONS, draws=2)
    put(ds, "consumption", 10.0, stage="separation", region="DEU", element="NdPr")
    put(ds, "production", 2.0, draw=0, stage="separation", region="DEU", element="NdPr",
        origin="other")
    put(ds, "production", 5.0, draw=1, stage="separation", region="DEU", element="NdPr",
        origin="other")
    ship(ds, "oxide", "CHN", "DEU", 8.0, draw=0)
    ship(ds, "oxide", "AUS", "DEU", 5.0, draw=1)
    check = crma_compliance(ds, EU, "separation").sel(year=2030)
    np.testing.assert_allclose(check["largest_share"], [0.8, 0.5])
    assert check["largest_supplier"].values.tolist() == ["CHN", "AUS"]


def test_crma_magnet_share_follows_the_rule_of_origin():
    """Japan makes 30 t and imports 40 t of Chinese magnets; its 30 t sent to the EU are Japanese.

    Under the rule of origin a non-hub exporter ships its own make, so the EU's magnet supply is
    China 70 / 100 and Japan 30 / 100, matching what a route-based cap row counts. Declared a
    hub, Japan's shipments mix its pool (30 own + 40 Chinese) and part of them trace to China.
    """
    ds = empty_result([2030], [*REGIONS, "JPN"])
    at = {"year": 2030, "element": "NdPr"}
    put(ds, "production", 110.0, stage="magnet", region="CHN", origin="china", **at)
    put(ds, "production", 30.0, stage="magnet", region="JPN", origin="china", **at)
    ship(ds, "magnet", "CHN", "JPN", 40.0, origin="china", year=2030)
    ship(ds, "magnet", "CHN", "DEU", 70.0, origin="china", year=2030)
    ship(ds, "magnet", "JPN", "DEU", 30.0, origin="china", year=2030)
    put(ds, "consumption", 100.0, stage="magnet", region="DEU", **at)
    put(ds, "consumption", 40.0, stage="magnet", region="JPN", **at)
    check = crma_compliance(ds, EU, "magnet").sel(year=2030)
    assert float(check["largest_share"]) == pytest.approx(0.70)
    table = third_country_shares(ds, EU, "magnet")
    assert table.loc[table.supplier == "JPN", "share"].item() == pytest.approx(0.30)
    assert table.supplier.tolist() == ["CHN", "JPN"]
    hub = crma_compliance(ds, EU, "magnet", reexport_hubs=["JPN"]).sel(year=2030)
    assert float(hub["largest_share"]) == pytest.approx(0.70 + 0.30 * 40.0 / 70.0)


def test_crma_extraction_benchmark(eu):
    check = crma_compliance(eu, EU, "separation").sel(year=2030)
    assert float(check["extraction_share"]) == 0.0
    assert not bool(check["extraction_ok"])
    put(eu, "production", 12.0, year=2030, stage="mining", region="FRA", element="NdPr",
        origin="other")
    check = crma_compliance(eu, EU, "separation").sel(year=2030)
    assert float(check["extraction_share"]) == pytest.approx(0.12)
    assert bool(check["extraction_ok"])
