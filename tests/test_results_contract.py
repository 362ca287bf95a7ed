"""The result contract as data: real simulations conform to it and docs/results.md follows it."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rareflow.engine.results import DIMS, UNITS
from rareflow.metrics import RESULT_VARIABLES, contract_problems
from rareflow.model.results_contract import (
    COORDINATES,
    RESULT_ATTRIBUTES,
    RESULT_COORDINATES,
    VARIABLES,
    written_by,
)
from rareflow.model.results_doc import main, markdown
from rareflow.runs.runner import run_scenario
from rareflow.store import RunStore

DOCS = Path(__file__).resolve().parents[1] / "docs" / "results.md"
YEARS = [2024, 2025, 2026]
#: mp-dod-2025 has a price floor, an offtake and capacity support, with fiscal costs.
SCENARIOS = ("baseline", "mp-dod-2025")


@pytest.fixture(scope="module")
def real_results() -> dict[str, xr.Dataset]:
    """Each of :data:`SCENARIOS` run over 2024–2026, as ``rareflow run`` simulates it."""
    return {name: run_scenario(name, years=YEARS).result for name in SCENARIOS}


@pytest.fixture(params=SCENARIOS)
def real_result(request: pytest.FixtureRequest, real_results: dict[str, xr.Dataset]
                ) -> xr.Dataset:
    """One real scenario result (not to be modified in place)."""
    return real_results[request.param]


def test_docs_results_md_is_generated_from_the_contract() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), (
        "docs/results.md is out of date: run python -m rareflow.model.results_doc "
        "> docs/results.md"
    )
    assert main(["--check", str(DOCS)]) == 0


def test_doc_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "results.md"
    stale.write_text(markdown().replace("t REO", "t"), encoding="utf-8")
    assert main(["--check", str(stale)]) == 1


def test_every_row_of_the_contract_is_documented() -> None:
    page = markdown()
    for name in [*VARIABLES, *COORDINATES, *(a.name for a in RESULT_ATTRIBUTES)]:
        assert f"| `{name}` |" in page


def test_the_contract_is_consistent() -> None:
    assert len(VARIABLES) == len({v.name for v in VARIABLES.values()})
    dims = {dim for coordinate in RESULT_COORDINATES for dim in coordinate.dims}
    for variable in VARIABLES.values():
        assert variable.dims[0] == "year", variable.name
        assert set(variable.dims) <= dims, variable.name
        assert variable.attrs() == {"units": variable.units}
    assert set(RESULT_VARIABLES) == set(VARIABLES)


def test_the_engine_writes_what_the_contract_declares_for_a_solve() -> None:
    solve = written_by("solve")
    assert list(DIMS) == [variable.name for variable in solve]
    assert all(DIMS[v.name] == v.dims[1:] and UNITS[v.name] == v.units for v in solve)


def test_a_real_simulation_follows_the_contract(real_result: xr.Dataset) -> None:
    ds = real_result
    assert contract_problems(ds) == []
    # Everything the run writes is declared, with exactly the declared attrs, in contract order.
    assert list(ds.data_vars) == list(VARIABLES)
    for name, variable in VARIABLES.items():
        assert ds[name].attrs == variable.attrs(), name
    ensemble_only = {"draw"}
    assert set(ds.coords) == set(COORDINATES) - ensemble_only
    assert ds["instrument_type"].sizes == ds["instrument"].sizes
    assert {a.name for a in RESULT_ATTRIBUTES if not a.optional} <= set(ds.attrs)
    assert set(ds.attrs) <= {a.name for a in RESULT_ATTRIBUTES}


def test_a_policy_run_fills_the_policy_variables(real_results: dict[str, xr.Dataset]) -> None:
    ds = real_results["mp-dod-2025"]
    assert float(np.abs(ds["fiscal_cost"]).sum()) > 0.0
    assert "price_floor" in {str(t) for t in ds["instrument_type"].values}


def test_a_stored_real_result_still_follows_the_contract(
    real_result: xr.Dataset, tmp_path: Path
) -> None:
    store = RunStore(tmp_path / "runs")
    try:
        info = store.create_run(kind="single", scenario_name=str(real_result.attrs["scenario"]),
                                scenario_text="", data_version="test", code_version="test",
                                seed=0, n_draws=1, params={})
        store.write_draw(info.run_id, 0, real_result)
        loaded = store.load_result(info.run_id)
    finally:
        store.close()
    assert contract_problems(loaded) == []


def test_contract_problems_names_wrong_coordinates_and_dtypes(real_result: xr.Dataset) -> None:
    assert contract_problems(real_result.drop_vars("instrument_type")) == [
        "missing coordinate 'instrument_type'"
    ]
    ds = real_result.assign(surplus=real_result["surplus"].astype(np.float32))
    ds = ds.assign_coords(year=ds["year"].astype(str))
    problems = contract_problems(ds.drop_vars("grade"))
    assert "surplus: dtype float32, expected float64" in problems
    assert any(p.startswith("coordinate year: dtype") for p in problems)
    assert "missing coordinate 'grade'" in problems
