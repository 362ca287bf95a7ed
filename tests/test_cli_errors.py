"""The CLI's bad-input paths (issue #15): one exit-status rule, one-line errors, no tracebacks.

Exit status: 0 ok, 1 the command ran and found a problem, 2 bad input or usage.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import xarray as xr
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from rareflow.cli import main
from rareflow.data.loader import load_world
from rareflow.engine.diagnostics import InfeasibleYearError
from rareflow.model.errors import DataError
from rareflow.runs import runner as runner_module
from rareflow.runs.ensemble import worker as worker_module
from rareflow.scenario import load_scenario
from rareflow.store import RunStore
from rareflow.web import jobs as jobs_module
from rareflow.web.app import create_app

#: A conflict as the engine reports it for a Chinese Dy ban on the US with US demand to meet.
CONFLICTS = [
    "oxide_ship[exporter=CHN, importer=USA, element=Dy] within [0, 0]",
    "oxide_demand[region=USA, element=Dy] within [120, inf]",
]


def _cli(*args: str, input: str | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args), input=input)


def _error_line(result: Result) -> str:
    [line] = [line for line in result.output.splitlines() if line.startswith("error: ")]
    return line


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _infeasible(*_: Any, **__: Any) -> xr.Dataset:
    raise InfeasibleYearError(2026, "Infeasible", CONFLICTS)


# --- 1. a year without a solution -------------------------------------------------------------


def test_run_names_the_policy_and_records_of_an_infeasible_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "simulate_scenario", _infeasible)
    result = _cli("run", "heavy-ban", "--years", "2024-2026", "--store", str(tmp_path / "s"))
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    text = " ".join(result.output.split())
    assert "market year 2026 is infeasible" in text
    assert "'chn_heavy_ban' (export_control)" in text  # the scenario's instrument
    assert "region 'USA'" in text and "region 'CHN'" in text  # the data records
    assert not (tmp_path / "s").exists()  # nothing stored


def test_unbounded_year_is_bad_input_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unbounded(*_: Any, **__: Any) -> xr.Dataset:
        raise InfeasibleYearError(2024, "Unbounded", [])

    monkeypatch.setattr(runner_module, "simulate_scenario", unbounded)
    result = _cli("run", "baseline", "--years", "2024-2024", "--store", str(tmp_path))
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    assert "market year 2024 is unbounded" in result.output




def test_ensemble_records_an_infeasible_draw_and_says_so(
    in_process_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = worker_module.WorkerModel.simulate_draw

    def flaky(self: worker_module.WorkerModel, index: int) -> xr.Dataset:
        if index == 1:
            raise InfeasibleYearError(2026, "Infeasible", CONFLICTS)
        return original(self, index)

    monkeypatch.setattr(worker_module.WorkerModel, "simulate_draw", flaky)
    result = _cli("ensemble", "heavy-ban", "--draws", "2", "--years", "2024-2026",
                  "--store", str(tmp_path), "--scheduler", in_process_cluster)
    assert result.exit_code == 1, result.output  # it ran; a failed draw is a problem found
    _no_traceback(result)
    text = " ".join(result.output.split())
    assert "1 of 2 draws failed" in text and "'chn_heavy_ban' (export_control)" in text
    with RunStore(tmp_path, read_only=True) as store:
        [run] = store.list_runs()
        assert "'chn_heavy_ban' (export_control)" in store.draw_errors(run.run_id)[1]


def test_dashboard_run_of_an_infeasible_year_is_422_naming_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "simulate_scenario", _infeasible)
    monkeypatch.setattr(jobs_module.RunPool, "_pool", lambda self: ThreadPoolExecutor(1))
    with TestClient(create_app(tmp_path), base_url="http://127.0.0.1") as client:
        response = client.post("/api/runs", json={"scenario": "heavy-ban",
                                                  "years": {"start": 2024, "end": 2026}})
    assert response.status_code == 422, response.text
    assert "'chn_heavy_ban' (export_control)" in response.json()["error"]


# --- 2. years bounded to the world's range ----------------------------------------------------


@pytest.mark.parametrize("years", ["1000-1001", "2009-2015", "2051", "2049-2060"])
def test_years_outside_the_worlds_range_are_refused(tmp_path: Path, years: str) -> None:
    for command in (["run", "baseline"], ["ensemble", "baseline", "--draws", "1"]):
        result = _cli(*command, "--years", years, "--store", str(tmp_path / "s"))
        assert result.exit_code == 2, result.output
        _no_traceback(result)
        assert "2024-2050" in result.output and "base year 2024" in result.output
    assert not (tmp_path / "s").exists()


def test_a_scenarios_own_years_are_bounded_and_check_agrees_with_run(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("name: old\ndescription: d\nextends: baseline\n"
                    "years: {start: 2009, end: 2015}\n")
    checked = _cli("scenarios", "check", str(path))
    ran = _cli("run", str(path), "--store", str(tmp_path / "s"))
    assert checked.exit_code == ran.exit_code == 2
    assert _error_line(checked) == _error_line(ran)
    assert f"{path}:4" in checked.output and "2024-2050" in checked.output
    assert json.loads(_cli("scenarios", "check", str(path), "--json").output)["field"] == "years"


def test_run_years_is_the_one_rule() -> None:
    world = load_world()
    scenario = load_scenario("baseline", world)
    assert scenario.run_years(world) == range(2024, 2041)
    assert scenario.run_years(world, [2030, 2031]) == range(2030, 2032)
    assert scenario.run_years(world, range(2024, 2051)) == range(2024, 2051)
    with pytest.raises(DataError, match="2024-2050"):
        scenario.run_years(world, [2023])
    with pytest.raises(DataError, match="no years"):
        scenario.run_years(world, [])


# --- 3. rich markup in user text --------------------------------------------------------------


def test_markup_in_file_names_and_scenario_names_is_shown_as_written(tmp_path: Path) -> None:
    bad = tmp_path / "x[a-z0-9].yaml"
    bad.write_text("name: bad\ndescription: d\npolices: []\n")
    for command in (["run", str(bad)], ["scenarios", "check", str(bad)]):
        result = _cli(*command, "--store", str(tmp_path)) if command[0] == "run" else _cli(*command)
        assert result.exit_code == 2
        assert "x[a-z0-9].yaml" in result.output, result.output
    named = _cli("run", "no[bold]such[/bold]", "--store", str(tmp_path))
    assert named.exit_code == 2 and "no[bold]such[/bold]" in named.output, named.output


def test_markup_in_a_store_path_and_scenario_file_of_a_run(tmp_path: Path) -> None:
    good = tmp_path / "x[a-z0-9].yaml"
    good.write_text("name: good\ndescription: uses [bold]brackets[/bold]\nextends: baseline\n")
    store = tmp_path / "st[red]ore"
    result = _cli("run", str(good), "--years", "2024-2024", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "st[red]ore" in result.output
    assert "[bold]brackets[/bold]" in " ".join(result.output.split())
    listed = _cli("runs", "list", "--store", str(store))
    assert listed.exit_code == 0 and "good" in listed.output


# --- 4. one exit-status rule, every command ---------------------------------------------------


def test_foreign_store_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    thesis = tmp_path / "results" / "thesis"
    thesis.mkdir(parents=True)
    (thesis / "fig1.csv").write_text("keep")
    result = _cli("run", "baseline", "--years", "2024-2024", "--store", str(tmp_path))
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    assert _error_line(result).startswith("error: run store:")
    assert (thesis / "fig1.csv").read_text() == "keep"


def test_out_into_a_missing_folder_is_refused_before_running(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "base.nc"
    result = _cli("run", "baseline", "--years", "2024-2024", "--out", str(out))
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    assert "does not exist" in _error_line(result) and "simulating" not in result.output


def test_out_that_cannot_be_written_is_one_line_naming_the_stored_run(tmp_path: Path) -> None:
    out = tmp_path / ("x" * 300 + ".nc")  # longer than any file system allows a name
    result = _cli("run", "baseline", "--years", "2024-2024", "--out", str(out),
                  "--store", str(tmp_path / "store"))
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    assert "cannot write --out" in _error_line(result)
    assert "stored as" in _error_line(result)


@pytest.fixture(scope="module")
def store_with_a_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("store")
    result = _cli("run", "baseline", "--years", "2024-2025", "--store", str(root), "--json")
    assert result.exit_code == 0, result.output
    return root, json.loads(result.stdout)["run_id"]


def _matrix() -> list[tuple[list[str], int]]:
    none = "{nowhere}"
    store = "{store}"
    return [
        (["--help"], 0),
        (["no-such-command"], 2),
        (["run", "--years", "x-y", "baseline"], 2),
        (["run", "basline", "--store", none], 2),
        (["ensemble", "basline", "--draws", "1", "--store", none], 2),
        (["ensemble", "baseline", "--draws", "0"], 2),
        (["compare", "zzzz", "yyyy", "--store", store], 2),
        (["report", "zzzz", "--store", store], 2),
        (["data", "check", "--data", "{bad_data}"], 2),
        (["scenarios", "list"], 0),
        (["scenarios", "check", "baseline"], 0),
        (["scenarios", "check", "basline"], 2),
        (["runs", "list", "--store", store], 0),
        (["runs", "list", "--store", none], 2),
        (["runs", "show", "{run}", "--store", store], 0),
        (["runs", "show", "zzzz", "--store", store], 2),
        (["runs", "delete", "zzzz", "--store", store, "--yes"], 2),
        (["runs", "delete", "{run}", "--store", store], 1),  # declined at the prompt
        (["runs", "prune", "--store", none], 2),
        (["runs", "prune", "--store", store], 0),
        (["serve", "--host", "0.0.0.0", "--store", store], 2),
    ]


@pytest.mark.parametrize(("args", "code"), _matrix(), ids=lambda v: " ".join(v)
                         if isinstance(v, list) else str(v))
def test_every_command_follows_the_exit_rule(
    store_with_a_run: tuple[Path, str], tmp_path: Path, args: list[str], code: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)  # never start a server
    root, run_id = store_with_a_run
    bad_data = tmp_path / "data"
    bad_data.mkdir()
    (bad_data / "facilities.yaml").write_text("records: [{id: 1}]\n")
    values = {"store": str(root), "nowhere": str(tmp_path / "nowhere"), "run": run_id,
              "bad_data": str(bad_data)}
    result = _cli(*(arg.format(**values) for arg in args), input="n\n")
    assert result.exit_code == code, result.output
    _no_traceback(result)


def test_help_states_the_rule() -> None:
    assert "Exit status: 0 ok; 1" in " ".join(_cli("--help").output.split())


# --- 5. an unreachable scheduler --------------------------------------------------------------


def test_unreachable_scheduler_is_one_line_and_leaves_no_run(tmp_path: Path) -> None:
    with RunStore(tmp_path):  # an existing, empty store
        pass
    result = _cli("ensemble", "baseline", "--draws", "2", "--years", "2024-2025",
                  "--store", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9",
                  "--connect-timeout", "1")
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s" in _error_line(result)
    with RunStore(tmp_path, read_only=True) as store:
        assert store.list_runs() == []


# --- 6. serve off loopback --------------------------------------------------------------------


def test_serve_off_loopback_needs_allow_remote_and_keeps_the_host_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    refused = _cli("serve", "--host", "192.0.2.7", "--store", str(tmp_path))
    assert refused.exit_code == 2 and "--allow-remote" in refused.output
    assert served == []
    allowed = _cli("serve", "--host", "192.0.2.7", "--allow-remote", "--server-name",
                   "models.example.org", "--store", str(tmp_path))
    assert allowed.exit_code == 0, allowed.output
    assert "WARNING" in allowed.output
    [app] = served
    for host, status in [("192.0.2.7:8050", 200), ("models.example.org", 200),
                         ("127.0.0.1", 200), ("evil.example", 400)]:
        with TestClient(app, base_url=f"http://{host}") as client:
            assert client.get("/api/scenarios").status_code == status, host
