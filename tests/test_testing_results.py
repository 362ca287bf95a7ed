import numpy as np
import pytest
import xarray as xr

from rareflow.metrics import RESULT_VARIABLES, contract_problems
from rareflow.testing import empty_result, put, ship, synthetic_result

#: The parts of demand at the reference price: demand = served + substituted + the rest.
OUTCOMES = ("served", "substituted", "demand_response", "shortfall")


def test_empty_result_follows_the_contract():
    ds = empty_result([2030, 2031], ["CHN", "USA"], instruments=["floor"], facilities=["mp"])
    assert contract_problems(ds) == []
    assert list(ds.data_vars) == list(RESULT_VARIABLES)
    assert set(OUTCOMES) <= set(ds.data_vars)
    assert ds["shortfall"].dims == ds["demand_response"].dims == ds["demand"].dims
    assert ds["shortfall"].attrs == ds["demand_response"].attrs == ds["demand"].attrs
    assert contract_problems(ds.drop_vars("magnets_in_use")) == []  # simulations only
    assert ds["trade"].dims == ("year", "product", "exporter", "importer", "element", "origin")
    assert ds["surplus"].attrs["units"] == "USD million"
    assert float(ds["production"].sum()) == 0.0
    assert set(ds.attrs) >= {"scenario", "data_version", "code_version", "seed"}


def test_ensemble_result_has_a_leading_draw_dim():
    ds = empty_result([2030], ["CHN"], draws=3)
    assert all(ds[name].dims[0] == "draw" for name in RESULT_VARIABLES)
    assert ds.sizes["draw"] == 3
    assert contract_problems(ds) == []


def test_contract_problems_names_what_is_wrong():
    ds = empty_result([2030], ["CHN"]).drop_vars("surplus")
    ds["price"].attrs["units"] = "USD/t"
    problems = contract_problems(ds)
    assert "missing variable 'surplus'" in problems
    assert any(p.startswith("price: units") for p in problems)


def test_put_and_ship_set_values_in_place():
    ds = empty_result([2030, 2031], ["CHN", "USA"])
    put(ds, "shortfall", 5.0, region="USA", sector="defence")
    ship(ds, "oxide", "CHN", "USA", 7.0, year=2031)
    np.testing.assert_array_equal(ds["shortfall"].sel(region="USA", sector="defence"),
                                  [5.0, 5.0])
    assert float(ds["trade"].sum()) == 7.0
    assert float(ds["trade"].sel(year=2031, product="oxide", exporter="CHN", importer="USA",
                                 element="NdPr", origin="other")) == 7.0


def test_missing_variable_raises_a_clear_error():
    from rareflow.metrics import net_import_reliance

    ds = empty_result([2030], ["USA"]).drop_vars("trade")
    with pytest.raises(KeyError, match="trade"):
        net_import_reliance(ds, "separation", "USA")


def test_synthetic_result_follows_the_contract_and_its_seed():
    ds = synthetic_result(4)
    assert contract_problems(ds) == []
    assert list(ds.data_vars) == list(RESULT_VARIABLES)
    assert ds.attrs["seed"] == 4
    xr.testing.assert_identical(ds, synthetic_result(4))
    assert not synthetic_result(5)["price"].equals(ds["price"])
    np.testing.assert_allclose(sum(ds[name] for name in OUTCOMES), ds["demand"])
    assert float(ds["shortfall"].min()) >= 0.0
    assert float(ds["demand_response"].min()) < 0.0 < float(ds["demand_response"].max())


def test_no_production_module_imports_the_test_kit():
    import ast
    from pathlib import Path

    import rareflow

    package = Path(rareflow.__file__).parent
    importers = []
    for path in package.rglob("*.py"):
        if path.is_relative_to(package / "testing"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{alias.name}" for alias in node.names]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(name == "rareflow.testing" or name.startswith("rareflow.testing.")
                   for name in names):
                importers.append(str(path.relative_to(package)))
    assert importers == []
