"""The CLI for people who are not its authors: narrow terminals, JSON options, a taken port,
a fast ``--help``.

Timings are measured in ``benchmarks/bench_cli.py``, never here; this file checks what makes
``--help`` fast (no heavy imports) and the rest of the behaviour.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from rareflow.cli import main
from rareflow.scenario.library import bundled_names
from rareflow.scenario.loader import load_scenario

SCENARIO = "slow-rebuild"
#: Modules ``rareflow --help`` and ``rareflow COMMAND --help`` must not import.
HEAVY = ("dask", "distributed", "plotly", "fastapi", "uvicorn", "xarray", "pandas", "duckdb",
         "highspy", "rareflow.metrics", "rareflow.engine", "rareflow.store.store")


def _cli(*args: object, columns: int = 200, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": str(columns), **(env or {})})
    return runner.invoke(main, [str(arg) for arg in args])


def _strict(text: str) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


# --- 80 columns --------------------------------------------------------------------------------


def test_scenarios_list_fits_80_columns_with_words_whole() -> None:
    result = _cli("scenarios", "list", columns=80)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(cell_len(line.rstrip()) <= 80 for line in lines), lines
    assert "…" not in result.stdout
    words = set(result.stdout.split())
    for name in bundled_names():
        scenario = load_scenario(name)
        assert name in words
        assert set(scenario.description.split()) <= words, name  # no word broken


def test_scenarios_list_keeps_the_parent_column_when_wide() -> None:
    result = _cli("scenarios", "list", columns=160)
    header = next(line for line in result.stdout.splitlines() if "description" in line)
    assert header.split() == ["name", "description", "extends", "policies"]


# --- --json (a flag) and --json-out FILE, on every command with JSON output -----------------


def test_every_json_command_has_the_flag_and_the_file_option() -> None:
    with_json = [(path, command) for path, command in _commands(main)
                 if any(p.name == "as_json" for p in command.params)]
    assert {path[0] for path, _ in with_json} >= {"run", "compare", "ensemble", "runs",
                                                  "scenarios", "data"}
    for path, command in with_json:
        params = {p.name: p for p in command.params}
        assert isinstance(params["as_json"], click.Option) and params["as_json"].is_flag, path
        assert "json_out" in params, path
        assert params["json_out"].opts == ["--json-out"], path  # type: ignore[union-attr]


def test_run_json_out_writes_the_file_and_still_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "answers.json"
    result = _cli("run", SCENARIO, "--years", "2024", "--store", tmp_path / "runs",
                  "--json-out", out)
    assert result.exit_code == 0, result.output
    document = _strict(out.read_text(encoding="utf-8"))
    assert document["scenario"] == SCENARIO and document["answers"]
    assert "question" in result.stdout  # the table
    listed = _cli("runs", "list", "--store", tmp_path / "runs", "--json-out",
                  tmp_path / "runs.json")
    assert listed.exit_code == 0 and "Runs" in listed.stdout
    [run] = _strict((tmp_path / "runs.json").read_text(encoding="utf-8"))
    assert run["run_id"] == document["run_id"]
    shown = _cli("runs", "show", document["run_id"], "--store", tmp_path / "runs", "--json")
    assert _strict(shown.stdout)["run_id"] == document["run_id"]


@pytest.mark.parametrize("args", [
    ("scenarios", "list"),
    ("scenarios", "check", SCENARIO),
    ("data", "check"),
])
def test_json_flag_and_json_out_agree(args: tuple[str, ...], tmp_path: Path) -> None:
    printed = _cli(*args, "--json")
    assert printed.exit_code == 0, printed.output
    out = tmp_path / "out.json"
    written = _cli(*args, "--json-out", out)
    assert written.exit_code == 0, written.output
    assert _strict(out.read_text(encoding="utf-8")) == _strict(printed.stdout)
    assert not written.stdout.lstrip().startswith(("{", "["))  # the table, not JSON


def test_ensemble_json_out(tmp_path: Path, in_process_cluster: str) -> None:
    out = tmp_path / "ensemble.json"
    result = _cli("ensemble", SCENARIO, "--draws", "1", "--years", "2024", "--store",
                  tmp_path / "runs", "--scheduler", in_process_cluster, "--json-out", out)
    assert result.exit_code == 0, result.output
    payload = _strict(out.read_text(encoding="utf-8"))
    assert payload["n_done"] == 1 and payload["extended_from"] is None
    assert f"run {payload['run_id']}" in result.output


def test_json_out_to_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    result = _cli("scenarios", "list", "--json-out", tmp_path / "missing" / "out.json")
    assert result.exit_code == 2
    assert "--json-out" in result.output and "Traceback" not in result.output


# --- serve checks its port first ------------------------------------------------------------


def test_serve_refuses_a_taken_port_before_printing_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw["port"]))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli("serve", "--port", port, "--store", tmp_path)
    assert result.exit_code == 2, result.output
    assert f"port {port}" in result.output and "--port" in result.output
    assert "http://" not in result.output and started == []


def test_serve_starts_on_a_free_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw["port"]))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _cli("serve", "--port", port, "--store", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}/" in result.output and started == [port]


# --- a fast --help: no heavy imports ---------------------------------------------------------


def _imported_after(code: str) -> set[str]:
    """Heavy modules loaded by ``code`` run in a fresh interpreter."""
    probe = (f"import sys\n{code}\n"
             f"print('HEAVY:', *(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("HEAVY:"), done.stdout
    return set(last.split()[1:])


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _imported_after("import rareflow.cli") == set()


@pytest.mark.parametrize("command", [
    [], ["run"], ["compare"], ["ensemble"], ["report"], ["serve"], ["runs", "list"],
    ["scenarios", "list"], ["data", "check"],
])
def test_help_loads_no_heavy_module(command: list[str]) -> None:
    code = ("from rareflow.cli import main\n"
            "try:\n"
            f"    main({[*command, '--help']!r}, prog_name='rareflow')\n"
            "except SystemExit:\n"
            "    pass")
    assert _imported_after(code) == set(), command


def test_help_defaults_match_the_model() -> None:
    from rareflow.cli.ensemble import DEFAULT_CONNECT_TIMEOUT
    from rareflow.cli.options import DEFAULT_YEARS_TEXT
    from rareflow.runs.ensemble import driver
    from rareflow.scenario.scenario import DEFAULT_YEARS

    assert f"{DEFAULT_YEARS[0]}-{DEFAULT_YEARS[-1]}" == DEFAULT_YEARS_TEXT
    assert DEFAULT_CONNECT_TIMEOUT == driver.DEFAULT_CONNECT_TIMEOUT


def test_rareflow_load_world_is_still_importable() -> None:
    import rareflow

    assert callable(rareflow.load_world)
