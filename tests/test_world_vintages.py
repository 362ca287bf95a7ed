"""World vintages (issue #19): choosing a world, shared behaviour, and the valid year range.

Every world is complete on its own except the shared files; behaviour (sector elasticities,
substitutes, magnet recipes) is the same in every world; years outside a world's range are
refused by the Python API, the CLI and the dashboard with the range in the message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from rareflow.cli import main
from rareflow.data.loader import (
    SHARED_SECTOR_FIELDS,
    available_worlds,
    load_world,
)
from rareflow.model.errors import DataError
from rareflow.model.world import DEFAULT_WORLD
from rareflow.report.provenance import scenario_text_world
from rareflow.runs.ensemble import run_ensemble
from rareflow.runs.ensemble.worker import data_version
from rareflow.runs.runner import prepare_run, run_parsed_scenario
from rareflow.scenario import load_scenario
from rareflow.web.app import create_app
from world_vintages import TEST_WORLD, WORLDS_ENV, write_test_world


@pytest.fixture
def worlds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of worlds holding the test world, named by ``RAREFLOW_WORLDS``."""
    root = tmp_path / "worlds"
    write_test_world(root)
    monkeypatch.setenv(WORLDS_ENV, str(root))
    return root


def _cli(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def _scenario(tmp_path: Path, world: str | None, years: str = "{start: 2010, end: 2011}") -> Path:
    path = tmp_path / "vintage.yaml"
    line = f'world: "{world}"\n' if world is not None else ""
    path.write_text(f"name: vintage\ndescription: A scenario on another world.\n{line}"
                    f"years: {years}\n", encoding="utf-8")
    return path


# --- loading a vintage -------------------------------------------------------------------------


def test_the_default_world_is_2024() -> None:
    world = load_world()
    assert world.vintage == DEFAULT_WORLD == "2024"
    assert world.provenance.base_year == 2024
    assert DEFAULT_WORLD in available_worlds()


def test_a_vintage_loads_with_its_own_base_year(worlds: Path) -> None:
    assert TEST_WORLD in available_worlds()
    world = load_world(vintage=TEST_WORLD)
    assert world.vintage == TEST_WORLD
    assert world.provenance.base_year == 2010


def test_an_unknown_world_is_refused_with_the_known_ones(worlds: Path) -> None:
    with pytest.raises(DataError, match="unknown world '2011'") as caught:
        load_world(vintage="2011")
    assert TEST_WORLD in caught.value.message and "2024" in caught.value.message


def test_a_missing_file_is_named(worlds: Path) -> None:
    (worlds / TEST_WORLD / "scrap.yaml").unlink()
    with pytest.raises(DataError, match=r"lacks scrap\.yaml") as caught:
        load_world(vintage=TEST_WORLD)
    assert caught.value.file == f"worlds/{TEST_WORLD}/scrap.yaml"


def test_a_copy_of_a_shared_file_is_refused(worlds: Path) -> None:
    (worlds / TEST_WORLD / "magnet_grades.yaml").write_text("[]\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"magnet_grades\.yaml is shared by every world"):
        load_world(vintage=TEST_WORLD)


def test_a_vintage_cannot_change_behaviour(worlds: Path) -> None:
    sectors = worlds / TEST_WORLD / "sectors.yaml"
    text = sectors.read_text(encoding="utf-8")
    sectors.write_text(text.replace("  elasticity: 0.1\n", "  elasticity: 0.5\n", 1),
                       encoding="utf-8")
    with pytest.raises(DataError, match="'elasticity' is behaviour shared") as caught:
        load_world(vintage=TEST_WORLD)
    error = caught.value
    assert (error.file, error.record, error.field) == (
        f"worlds/{TEST_WORLD}/sectors.yaml", "ev", "elasticity")
    assert error.line is not None and text.splitlines()[error.line - 1].strip().startswith(
        "elasticity")


def test_behaviour_left_out_of_a_vintage_is_the_default_worlds(worlds: Path) -> None:
    sectors = worlds / TEST_WORLD / "sectors.yaml"
    lines = sectors.read_text(encoding="utf-8").splitlines(keepends=True)
    sectors.write_text("".join(line for line in lines
                               if not line.startswith("  elasticity:")), encoding="utf-8")
    vintage, today = load_world(vintage=TEST_WORLD), load_world()
    assert [s.elasticity for s in vintage.sectors] == [s.elasticity for s in today.sectors]


def test_a_vintage_has_the_same_sectors(worlds: Path) -> None:
    sectors = worlds / TEST_WORLD / "sectors.yaml"
    sectors.write_text(sectors.read_text(encoding="utf-8").replace("- id: wind", "- id: windy"),
                       encoding="utf-8")
    with pytest.raises(DataError, match="same sectors") as caught:
        load_world(vintage=TEST_WORLD)
    assert caught.value.suggestion == "wind"


@pytest.mark.parametrize("name", available_worlds())
def test_every_bundled_world_behaves_like_the_default_one(name: str) -> None:
    world, today = load_world(vintage=name), load_world()
    assert world.vintage == name
    assert world.magnet_grades == today.magnet_grades
    assert world.regions == today.regions
    ours = {s.id: s for s in today.sectors}
    assert set(ours) == {s.id for s in world.sectors}
    for sector in world.sectors:
        for field in SHARED_SECTOR_FIELDS:
            assert getattr(sector, field) == getattr(ours[sector.id], field), (name, sector.id)


def test_overrides_lie_over_a_vintage(worlds: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "over"
    overrides.mkdir()
    (overrides / "world.yaml").write_text("version: mine\n", encoding="utf-8")
    world = load_world(overrides, vintage=TEST_WORLD)
    assert (world.vintage, world.provenance.version, world.provenance.base_year) == (
        TEST_WORLD, "mine", 2010)


# --- choosing the world of a run ---------------------------------------------------------------


def test_a_scenario_runs_on_the_world_it_names(worlds: Path, tmp_path: Path) -> None:
    inputs = prepare_run(_scenario(tmp_path, TEST_WORLD))
    assert inputs.world.vintage == TEST_WORLD
    assert inputs.years == [2010, 2011]


def test_world_option_chooses_the_world_of_a_scenario_that_names_none(
    worlds: Path, tmp_path: Path
) -> None:
    inputs = prepare_run(_scenario(tmp_path, None), world=TEST_WORLD)
    assert inputs.world.vintage == TEST_WORLD


def test_a_scenario_without_years_runs_from_its_worlds_base_year(
    worlds: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text(f'name: bare\ndescription: No years.\nworld: "{TEST_WORLD}"\n',
                    encoding="utf-8")
    inputs = prepare_run(path)
    assert inputs.years == list(range(2010, 2027))


def test_a_conflicting_world_is_refused(worlds: Path, tmp_path: Path) -> None:
    path = _scenario(tmp_path, TEST_WORLD)
    with pytest.raises(DataError, match=f"runs on world '{TEST_WORLD}', not '2024'") as caught:
        prepare_run(path, world="2024")
    assert caught.value.line == 3 and caught.value.field == "world"
    result = _cli("run", str(path), "--world", "2024")
    assert result.exit_code == 2
    assert f"runs on world '{TEST_WORLD}'" in result.output


def test_a_scenario_of_another_world_does_not_validate_against_2024(
    worlds: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="runs on world"):
        load_scenario(_scenario(tmp_path, TEST_WORLD), load_world())


def test_running_a_scenario_on_another_world_is_refused(worlds: Path, tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, TEST_WORLD))
    with pytest.raises(DataError, match="runs on world"):
        run_parsed_scenario(scenario, load_world(), [2024])


def test_an_unknown_world_in_a_scenario_points_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown world '1999'") as caught:
        prepare_run(_scenario(tmp_path, "1999"))
    assert caught.value.line == 3 and caught.value.field == "world"


def test_world_field_is_inherited_through_extends(worlds: Path, tmp_path: Path) -> None:
    _scenario(tmp_path, TEST_WORLD)
    child = tmp_path / "child.yaml"
    child.write_text("name: child\ndescription: Extends.\nextends: vintage\n", encoding="utf-8")
    assert load_scenario(child).world == TEST_WORLD


def test_data_check_takes_a_world(worlds: Path) -> None:
    result = _cli("data", "check", "--world", TEST_WORLD, "--json")
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
    refused = _cli("data", "check", "--world", "1999")
    assert refused.exit_code == 2 and "unknown world '1999'" in refused.output


def test_scenarios_list_names_each_scenarios_world() -> None:
    rows = json.loads(_cli("scenarios", "list", "--json").output)
    worlds = {row["name"]: row["world"] for row in rows}
    assert worlds["baseline"] == "2024"
    assert set(worlds.values()) <= set(available_worlds())


def test_scenarios_check_uses_the_scenarios_world(worlds: Path, tmp_path: Path) -> None:
    result = _cli("scenarios", "check", str(_scenario(tmp_path, TEST_WORLD)))
    assert result.exit_code == 0, result.output
    assert f"checked against world {TEST_WORLD}" in result.output


def test_report_takes_the_world_of_the_run(
    worlds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAREFLOW_STORE", str(tmp_path / "store"))
    ran = _cli("run", str(_scenario(tmp_path, TEST_WORLD)), "--years", "2010", "--json")
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.output)["run_id"]
    refused = _cli("report", run_id, "--world", "2024", "--out", str(tmp_path / "r.html"))
    assert refused.exit_code == 2 and f"is of world '{TEST_WORLD}'" in refused.output
    assert scenario_text_world(f'name: x\nworld: "{TEST_WORLD}"\n') == TEST_WORLD
    assert scenario_text_world("name: x\n") is None


def test_an_ensemble_runs_on_the_scenarios_world(
    worlds: Path, tmp_path: Path, in_process_cluster: str
) -> None:
    outcome = run_ensemble(str(_scenario(tmp_path, TEST_WORLD)), draws=1, years=[2010],
                           store_dir=tmp_path / "store", scheduler=in_process_cluster)
    # the workers check that they loaded the driver's world (same data version) or fail
    assert outcome.run.n_done == 1 and not outcome.failures
    assert outcome.run.data_version == data_version(load_world(vintage=TEST_WORLD))
    assert outcome.run.data_version != data_version(load_world())
    with pytest.raises(DataError, match="runs on world"):
        run_ensemble(str(_scenario(tmp_path, TEST_WORLD)), draws=1, world="2024",
                     store_dir=tmp_path / "store", scheduler=in_process_cluster)


# --- years outside a world's range -------------------------------------------------------------


@pytest.mark.parametrize("years", ["1000-1001", "2009-2015", "2045-2060"])
def test_cli_refuses_years_outside_the_2024_world(years: str) -> None:
    result = _cli("run", "baseline", "--years", years)
    assert result.exit_code == 2
    assert "2024-2050" in result.output and "outside the range" in result.output


def test_python_api_refuses_years_outside_the_range() -> None:
    with pytest.raises(DataError, match="2024-2050"):
        prepare_run("baseline", years=range(2009, 2016))


def test_a_vintage_has_its_own_range(worlds: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="2010-2036"):
        prepare_run(_scenario(tmp_path, TEST_WORLD, "{start: 2009, end: 2012}"))
    with pytest.raises(DataError, match="2010-2036"):
        prepare_run("baseline", world=TEST_WORLD)  # baseline's own years are 2024-2040...
    assert prepare_run("baseline", world=TEST_WORLD, years=range(2010, 2012)).years == [
        2010, 2011]  # ... but other years of the world are fine


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "store", max_active_runs=1),
                    base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.parametrize(("start", "end"), [(2009, 2015), (1000, 1001), (2024, 2099)])
def test_dashboard_refuses_years_outside_its_world_with_the_range(
    dashboard: TestClient, start: int, end: int
) -> None:
    response = dashboard.post("/api/runs", json={"scenario": "baseline",
                                                 "years": {"start": start, "end": end}})
    assert response.status_code == 422
    assert "2024-2050" in response.json()["error"]


def test_dashboard_names_its_world_and_range(dashboard: TestClient) -> None:
    world = dashboard.get("/api/scenarios").json()["world"]
    assert world == {"name": "2024", "base_year": 2024, "years": {"start": 2024, "end": 2050}}
