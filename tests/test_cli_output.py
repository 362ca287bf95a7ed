"""What the CLI prints and writes (issue #22): strict JSON, one ``--store`` option, progress.

Every ``--json`` output must parse with a strict JSON parser (no ``NaN``), every command that
uses the run store must honour ``RAREFLOW_STORE``, the progress bar must know its total, and
``report`` must not overwrite a file unless asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from rareflow.cli import main
from rareflow.cli.jsonout import to_json

SCENARIO = "slow-rebuild"


def _reject(constant: str) -> Any:
    raise ValueError(f"not strict JSON: {constant}")


def strict(text: str) -> Any:
    """``text`` parsed as strict JSON (``NaN``, ``Infinity`` refused)."""
    return json.loads(text, parse_constant=_reject)


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "200", **(env or {})}).invoke(main, list(args))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Result]:
    """A two-year run stored with ``--json``: the store, its run id and the command's result."""
    store = tmp_path_factory.mktemp("store") / "runs"
    result = _cli("run", SCENARIO, "--years", "2024-2025", "--store", str(store), "--json")
    assert result.exit_code == 0, result.output
    return store, strict(result.stdout)["run_id"], result




# --- strict JSON -----------------------------------------------------------------------------


def test_to_json_writes_null_for_non_finite_numbers() -> None:
    import numpy as np

    text = to_json({"a": [float("nan"), float("inf"), -float("inf"), 1.5, 2],
                    "b": np.float32("nan"), "c": (np.float64("-inf"),), "d": True})
    assert strict(text) == {"a": [None, None, None, 1.5, 2], "b": None, "c": [None], "d": True}


def test_run_json_is_strict(stored: tuple[Path, str, Result]) -> None:
    _, run_id, result = stored
    payload = strict(result.stdout)
    assert payload["run_id"] == run_id and payload["answers"]


def test_every_json_output_is_strict(stored: tuple[Path, str, Result]) -> None:
    store, run_id, _ = stored
    commands = [
        ("compare", run_id, run_id, "--store", str(store), "--json"),
        ("runs", "list", "--store", str(store), "--json"),
        ("runs", "show", run_id, "--store", str(store), "--json"),
        ("data", "check", "--json"),
        ("scenarios", "list", "--json"),
        ("scenarios", "check", SCENARIO, "--json"),
    ]
    for args in commands:
        result = _cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert strict(result.stdout), args


# --- one --store option, RAREFLOW_STORE everywhere -------------------------------------------


def test_every_store_option_reads_rareflow_store() -> None:
    def commands(group: click.Group) -> Iterator[click.Command]:
        for command in group.commands.values():
            if isinstance(command, click.Group):
                yield from commands(command)
            else:
                yield command

    with_store = [c for c in commands(main) if any(p.name == "store_dir" for p in c.params)]
    assert {c.name for c in with_store} >= {"run", "ensemble", "report", "compare", "serve"}
    for command in with_store:
        [option] = [p for p in command.params if p.name == "store_dir"]
        assert option.envvar == "RAREFLOW_STORE", command.name


def test_run_stores_in_rareflow_store(tmp_path: Path) -> None:
    store = tmp_path / "env-store"
    result = CliRunner(env={"RAREFLOW_STORE": str(store)}).invoke(
        main, ["run", SCENARIO, "--years", "2024", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = _cli("runs", "list", "--json", env={"RAREFLOW_STORE": str(store)})
    assert [run["run_id"] for run in strict(listed.stdout)] == [strict(result.stdout)["run_id"]]


def test_ensemble_stores_in_rareflow_store(tmp_path: Path, in_process_cluster: str) -> None:
    store = tmp_path / "env-store"
    result = _cli("ensemble", SCENARIO, "--draws", "1", "--years", "2024",
                  "--scheduler", in_process_cluster, "--json",
                  env={"RAREFLOW_STORE": str(store)})
    assert result.exit_code == 0, result.output
    payload = strict(result.stdout)
    assert payload["n_done"] == 1
    listed = _cli("runs", "list", "--json", "--store", str(store))
    assert [run["run_id"] for run in strict(listed.stdout)] == [payload["run_id"]]


# --- the progress bar knows its total ----------------------------------------------------------


def test_progress_bar_counts_the_scenarios_years(tmp_path: Path) -> None:
    result = _cli("run", "baseline", "--store", str(tmp_path / "runs"))  # 2024-2040
    assert result.exit_code == 0, result.output
    assert "17/17 years" in result.output
    assert "None" not in result.output


def test_invalid_years_are_refused_before_a_bar_is_drawn(tmp_path: Path) -> None:
    result = _cli("run", SCENARIO, "--years", "1990-1991", "--store", str(tmp_path / "runs"))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: "), result.output
    assert "simulating" not in result.output and "None" not in result.output
    assert not (tmp_path / "runs").exists()


# --- report does not overwrite unless asked ------------------------------------------------------


def test_report_refuses_an_existing_file_without_force(
    stored: tuple[Path, str, Result], tmp_path: Path
) -> None:
    store, run_id, _ = stored
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    refused = _cli("report", run_id, "--store", str(store), "--out", str(out))
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith("error: ") and refused.output.count("\n") == 1
    assert "--force" in refused.output
    assert out.read_text(encoding="utf-8") == "keep me"
    forced = _cli("report", run_id, "--store", str(store), "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert run_id in out.read_text(encoding="utf-8")
