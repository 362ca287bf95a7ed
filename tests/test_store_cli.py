"""``rareflow runs list|show|delete`` against a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.store import RunStore
from rareflow.testing import synthetic_result


@pytest.fixture
def populated(tmp_path: Path) -> tuple[Path, str, str]:
    store = RunStore(tmp_path, durable=False)
    single = store.create_run("single", "baseline", "name: baseline\nyears: [2024, 2026]\n",
                              "world-2025.11", "0.1.0", 1, 1, {"solver": "highs"})
    store.write_draw(single.run_id, 0, synthetic_result(0))
    ens = store.create_run("ensemble", "heavy-ban", "name: heavy-ban\n", "world-2025.11",
                           "0.1.0", 2, 3, {})
    store.write_draw(ens.run_id, 0, synthetic_result(0))
    store.record_failure(ens.run_id, 2, "Traceback (most recent call last):\nInfeasibleError: Dy")
    return tmp_path, single.run_id, ens.run_id


def run_cli(*args: str, input: str | None = None) -> tuple[int, str]:
    runner = CliRunner(env={"COLUMNS": "200"})  # a wide terminal: no ellipsis in tables
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_list_table_and_json(populated: tuple[Path, str, str]) -> None:
    root, single, ens = populated
    code, out = run_cli("runs", "list", "--store", str(root))
    assert code == 0
    assert single in out and ens in out
    assert "heavy-ban" in out and "1/3" in out
    code, out = run_cli("runs", "list", "--store", str(root), "--json")
    assert code == 0
    data = json.loads(out)
    assert [row["run_id"] for row in data] == [ens, single]
    assert data[0]["status"] == "incomplete"
    assert (data[0]["n_done"], data[0]["n_failed"]) == (1, 1)
    assert "scenario_text" not in data[0]


def test_list_empty_and_missing_store(tmp_path: Path) -> None:
    RunStore(tmp_path / "empty")
    code, out = run_cli("runs", "list", "--store", str(tmp_path / "empty"))
    assert code == 0 and "No runs" in out
    code, out = run_cli("runs", "list", "--store", str(tmp_path / "empty"), "--json")
    assert json.loads(out) == []
    code, out = run_cli("runs", "list", "--store", str(tmp_path / "nowhere"))
    assert code == 2 and "no run store" in out
    assert not (tmp_path / "nowhere").exists()


def test_store_from_environment(populated: tuple[Path, str, str]) -> None:
    root, single, _ = populated
    result = CliRunner().invoke(main, ["runs", "list", "--json"],
                                env={"RAREFLOW_STORE": str(root)})
    assert result.exit_code == 0
    assert single in result.output


def test_show_by_prefix(populated: tuple[Path, str, str]) -> None:
    root, _, ens = populated
    code, out = run_cli("runs", "show", ens[:7], "--store", str(root))
    assert code == 0
    assert ens in out and "heavy-ban" in out
    assert "InfeasibleError: Dy" in out  # last line of the failure
    assert "production" in out
    code, out = run_cli("runs", "show", ens, "--store", str(root), "--json")
    data = json.loads(out)
    assert data["scenario_text"] == "name: heavy-ban\n"
    assert data["failures"] == {"2": "Traceback (most recent call last):\nInfeasibleError: Dy"}
    code, out = run_cli("runs", "show", ens, "--store", str(root), "--scenario")
    assert "name: heavy-ban" in out


def test_show_unknown_run(populated: tuple[Path, str, str]) -> None:
    root, _, _ = populated
    code, out = run_cli("runs", "show", "zzzz", "--store", str(root))
    assert code == 2 and "no run 'zzzz'" in out


def test_delete_asks_unless_yes(populated: tuple[Path, str, str]) -> None:
    root, single, ens = populated
    code, out = run_cli("runs", "delete", single, "--store", str(root), input="n\n")
    assert code == 1 and "Aborted" in out
    assert (root / "results" / single).exists()
    code, out = run_cli("runs", "delete", single, "--store", str(root), input="y\n")
    assert code == 0 and f"Deleted run {single}" in out
    assert not (root / "results" / single).exists()
    code, out = run_cli("runs", "delete", ens[:8], "--store", str(root), "--yes", "--json")
    assert code == 0 and json.loads(out) == {"deleted": ens}
    assert RunStore(root, read_only=True).list_runs() == []
