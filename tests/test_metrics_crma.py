"""CRMA single-supplier shares traced through trade (re-exports and transit), on tiny cases and a
real baseline run of the bundled world."""

import numpy as np
import pytest
import xarray as xr

from rareflow.metrics import answers, crma_compliance, sourced_consumption, sourcing_shares
from rareflow.runs.runner import RunOutcome, run_scenario
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "USA", "JPN", "AUS", "DEU", "FRA", "EST"]
EU = ["DEU", "FRA", "EST"]
NDPR = {"year": 2030, "element": "NdPr"}


def _produce(ds: xr.Dataset, region: str, tonnes: float, origin: str = "other",
             stage: str = "separation") -> None:
    put(ds, "production", tonnes, stage=stage, region=region, origin=origin, **NDPR)


def _use(ds: xr.Dataset, region: str, tonnes: float, stage: str = "separation") -> None:
    put(ds, "consumption", tonnes, stage=stage, region=region, **NDPR)


@pytest.fixture
def transit() -> xr.Dataset:
    """Balanced NdPr oxide network with a re-export hub and a transit country.

    CHN makes 100 (china): 60 to EST, 40 to JPN. EST (EU) keeps 10 and re-exports 50 to AUS.
    JPN makes 20 (other), keeps 20 of the Chinese oxide and 10 of its own, and sends 20
    Chinese + 10 own to DEU. FRA separates 30 and recycles 10, uses 30 and sends 10 to DEU.

    EU consumption 80 (EST 10, DEU 40, FRA 30) was made in CHN 10 + 20 = 30, JPN 10, FRA 40.
    The old gross-imports ratio gave CHN 60 / 80 = 75 % and JPN 30 / 80.
    """
    ds = empty_result([2030], REGIONS)
    _produce(ds, "CHN", 100.0, origin="china")
    ship(ds, "oxide", "CHN", "EST", 60.0, origin="china", year=2030)
    ship(ds, "oxide", "CHN", "JPN", 40.0, origin="china", year=2030)
    ship(ds, "oxide", "EST", "AUS", 50.0, origin="china", year=2030)
    _produce(ds, "JPN", 20.0)
    ship(ds, "oxide", "JPN", "DEU", 20.0, origin="china", year=2030)
    ship(ds, "oxide", "JPN", "DEU", 10.0, origin="other", year=2030)
    _produce(ds, "FRA", 30.0)
    _produce(ds, "FRA", 10.0, stage="recycling")
    put(ds, "recycled", 10.0, region="FRA", element="NdPr")
    ship(ds, "oxide", "FRA", "DEU", 10.0, year=2030)
    for region, tonnes in (("EST", 10.0), ("DEU", 40.0), ("FRA", 30.0), ("JPN", 30.0),
                           ("AUS", 50.0)):
        _use(ds, region, tonnes)
    return ds


def test_transit_and_re_exports_are_traced_to_the_producer(transit):
    check = crma_compliance(transit, EU, "separation").sel(year=2030)
    assert float(check["largest_share"]) == pytest.approx(30 / 80)
    assert str(check["largest_supplier"].values) == "CHN"
    assert bool(check["within_cap"])
    assert float(check["domestic_share"]) == pytest.approx(40 / 80)
    assert float(check["processing_share"]) == pytest.approx(30 / 80)
    assert float(check["recycling_share"]) == pytest.approx(10 / 80)
    shares = sourcing_shares(transit, EU, "separation").sel(year=2030)
    assert float(shares.sel(source="JPN")) == pytest.approx(10 / 80)
    assert float(shares.sel(source="FRA")) == pytest.approx(40 / 80)
    assert float(shares.sum()) == pytest.approx(1.0)


def test_sourced_consumption_per_region(transit):
    sourced = sourced_consumption(transit, "separation").sel(year=2030, element="NdPr")
    assert sourced.attrs["units"] == "t REO"
    deu = sourced.sel(region="DEU")
    assert float(deu.sel(source="CHN")) == pytest.approx(20.0)
    assert float(deu.sel(source="JPN")) == pytest.approx(10.0)
    assert float(deu.sel(source="FRA")) == pytest.approx(10.0)
    # JPN keeps 20 Chinese and 10 own tonnes: the origin tags keep the two apart
    assert float(sourced.sel(region="JPN", source="CHN")) == pytest.approx(20.0)
    assert float(sourced.sel(region="AUS", source="CHN")) == pytest.approx(50.0)
    use = transit["consumption"].sel(stage="separation", year=2030, element="NdPr")
    np.testing.assert_allclose(sourced.sum("source"), use)


def test_re_export_hub_share_stays_a_share():
    ds = empty_result([2030], REGIONS)
    _produce(ds, "CHN", 600.0, origin="china")
    ship(ds, "oxide", "CHN", "EST", 600.0, origin="china", year=2030)
    ship(ds, "oxide", "EST", "AUS", 590.0, origin="china", year=2030)
    _use(ds, "EST", 10.0)
    _use(ds, "AUS", 590.0)
    check = crma_compliance(ds, EU, "separation").sel(year=2030)
    assert float(check["largest_share"]) == pytest.approx(1.0)  # was 600 / 10 = 6000 %
    assert not bool(check["within_cap"])


def test_unbalanced_data_counts_unexplained_supply_as_own():
    ds = empty_result([2030], REGIONS)
    ship(ds, "oxide", "CHN", "DEU", 8.0, origin="china", year=2030)  # CHN produced nothing
    _use(ds, "DEU", 10.0)  # 2 t more than DEU received
    sourced = sourced_consumption(ds, "separation").sel(year=2030, element="NdPr", region="DEU")
    assert float(sourced.sel(source="CHN")) == pytest.approx(8.0)
    assert float(sourced.sel(source="DEU")) == pytest.approx(2.0)


def test_magnet_stage_and_element_dim(transit):
    put(transit, "production", 5.0, year=2030, stage="magnet", region="JPN", element="Dy",
        origin="china")
    ship(transit, "magnet", "JPN", "FRA", 5.0, element="Dy", origin="china", year=2030)
    put(transit, "consumption", 5.0, year=2030, stage="magnet", region="FRA", element="Dy")
    check = crma_compliance(transit, EU, "magnet", element=None).sel(year=2030)
    assert float(check["largest_share"].sel(element="Dy")) == pytest.approx(1.0)
    assert str(check["largest_supplier"].sel(element="Dy").values) == "JPN"
    assert np.isnan(float(check["largest_share"].sel(element="NdPr")))
    with pytest.raises(ValueError, match="no traded product"):
        sourcing_shares(transit, EU, "recycling")


@pytest.fixture(scope="module")
def baseline() -> RunOutcome:
    return run_scenario("baseline", years=[2024, 2025])


STAGES = ("mining", "concentration", "separation", "metal", "magnet")


@pytest.mark.parametrize("stage", STAGES)
def test_bundled_baseline_crma_shares_are_fractions(baseline, stage):
    ds, eu = baseline.result, baseline.world.group_members("EU")
    for element in ("total", None):
        check = crma_compliance(ds, eu, stage, element=element)
        for name in ("largest_share", "domestic_share"):
            values = check[name].values
            finite = values[~np.isnan(values)]
            assert ((finite >= 0.0) & (finite <= 1.0 + 1e-9)).all(), (stage, element, name)
        assert (check["processing_share"].fillna(0.0) >= 0.0).all()
        assert (check["recycling_share"].fillna(0.0) >= 0.0).all()
    shares = sourcing_shares(ds, eu, stage, element=None)
    consumed = shares.notnull().any("source")
    np.testing.assert_allclose(shares.sum("source").where(consumed, 1.0), 1.0, rtol=1e-9)


def test_bundled_baseline_sourced_consumption_adds_up(baseline):
    ds = baseline.result
    sourced = sourced_consumption(ds, "separation")
    use = ds["consumption"].sel(stage="separation")
    np.testing.assert_allclose(sourced.sum("source").transpose(*use.dims), use, atol=1e-6)
    assert float(sourced.min()) >= 0.0


def test_bundled_baseline_answer_row_is_a_percentage(baseline):
    table = answers(baseline.result, baseline.world)
    rows = table[table["question"].str.startswith("EU largest single third-country share")]
    assert len(rows) == 4  # separation and magnets, first and last year
    assert rows["value"].between(0.0, 100.0).all()
