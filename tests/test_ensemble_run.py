"""Ensembles on real Dask clusters: streamed to the store, resumable, failures recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.runs.ensemble import ensemble_summary, run_ensemble
from rareflow.runs.ensemble import worker as worker_module
from rareflow.store import RunStore
from store_progress import start_and_kill

YEARS = range(2024, 2027)
SCENARIO = "slow-rebuild"


def _draws(store_dir: Path, run_id: str) -> dict[int, xr.Dataset]:
    with RunStore(store_dir, read_only=True) as store:
        return {d: store.load_result(run_id, d) for d in sorted(store.completed_draws(run_id))}


def _assert_same_draws(a: dict[int, xr.Dataset], b: dict[int, xr.Dataset]) -> None:
    assert sorted(a) == sorted(b)
    for draw in a:
        for variable in a[draw].data_vars:
            np.testing.assert_array_equal(a[draw][variable].values, b[draw][variable].values,
                                          err_msg=f"draw {draw}: {variable}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Six draws on a two-process LocalCluster (the default driver path)."""
    store_dir = tmp_path_factory.mktemp("reference")
    outcome = run_ensemble(SCENARIO, draws=6, seed=3, years=YEARS, store_dir=store_dir,
                           workers=2)
    assert outcome.run.n_done == 6 and not outcome.failures
    return store_dir, outcome.run_id


def test_ensemble_streams_draws_with_inputs_recorded(reference: tuple[Path, str]) -> None:
    store_dir, run_id = reference
    with RunStore(store_dir, read_only=True) as store:
        run = store.get_run(run_id)
        assert (run.kind, run.seed, run.n_draws, run.status) == ("ensemble", 3, 6, "complete")
        assert run.data_version.startswith("rareflow-world")
        first = store.load_result(run_id, 0)
    values = json.loads(first.attrs["draw_values"])
    assert any(name.startswith("start_delay_years.") for name in values)
    assert first.attrs["seed"] == 3 and first.attrs["draw"] == 0
    assert {"key_series", "sufficiency_share"} <= set(first.data_vars)


def test_summary_fans_and_probabilities(reference: tuple[Path, str]) -> None:
    store_dir, run_id = reference
    with RunStore(store_dir, read_only=True) as store:
        summary = ensemble_summary(store, run_id)
    fan = summary["fan"]
    assert fan.dims == ("series", "percentile", "year")
    assert list(summary["percentile"].values) == [5, 25, 50, 75, 95]
    assert (fan.diff("percentile").fillna(0) >= -1e-9).all()  # percentiles are ordered
    probability = summary["sufficiency_probability"]
    assert float(probability.min()) >= 0 and float(probability.max()) <= 1
    # "self-sufficient from year y and every later year" can only become more likely with y
    assert (probability.diff("year") >= 0).all()
    assert summary.attrs["n_done"] == 6
    assert len(summary["unit"]) == summary.sizes["series"]


def test_results_do_not_depend_on_batching_or_workers(
    reference: tuple[Path, str], tmp_path: Path
) -> None:
    store_dir, run_id = reference
    outcome = run_ensemble(SCENARIO, draws=6, seed=3, years=YEARS, store_dir=tmp_path,
                           workers=1, batch_size=4)
    _assert_same_draws(_draws(store_dir, run_id), _draws(tmp_path, outcome.run_id))


def test_rerun_with_same_arguments_resumes_nothing_to_do(reference: tuple[Path, str]) -> None:
    store_dir, run_id = reference
    again = run_ensemble(SCENARIO, draws=6, seed=3, years=YEARS, store_dir=store_dir, workers=1)
    assert again.run_id == run_id and again.ran == 0 and again.resumed == 6
    other_seed = run_ensemble(SCENARIO, draws=1, seed=4, years=YEARS, store_dir=store_dir,
                              workers=1)
    assert other_seed.run_id != run_id


def test_failed_draw_is_recorded_and_others_go_on(
    in_process_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = worker_module.WorkerModel.simulate_draw

    def flaky(self: worker_module.WorkerModel, index: int) -> xr.Dataset:
        if index == 1:
            raise RuntimeError("injected failure in draw 1")
        return original(self, index)

    monkeypatch.setattr(worker_module.WorkerModel, "simulate_draw", flaky)
    outcome = run_ensemble(SCENARIO, draws=3, seed=3, years=YEARS, store_dir=tmp_path,
                           scheduler=in_process_cluster, batch_size=3)
    assert sorted(outcome.failures) == [1]
    with RunStore(tmp_path, read_only=True) as store:
        assert store.completed_draws(outcome.run_id) == {0, 2}
        assert "injected failure in draw 1" in store.draw_errors(outcome.run_id)[1]
        assert store.get_run(outcome.run_id).status == "failed"
    monkeypatch.setattr(worker_module.WorkerModel, "simulate_draw", original)
    retried = run_ensemble(SCENARIO, draws=3, seed=3, years=YEARS, store_dir=tmp_path,
                           scheduler=in_process_cluster)
    assert retried.run_id == outcome.run_id and retried.ran == 1
    assert retried.run.status == "complete"


def test_cli_prints_progress_summary_and_json(reference: tuple[Path, str]) -> None:
    store_dir, run_id = reference
    result = CliRunner().invoke(main, ["ensemble", SCENARIO, "--draws", "6", "--seed", "3",
                                       "--years", "2024-2026", "--store", str(store_dir),
                                       "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["run_id"] == run_id and payload["resumed"] == 6 and payload["ran"] == 0
    probabilities = payload["sufficiency_probability"]
    assert all(0 <= p <= 1 for row in probabilities.values() for p in row.values())


def test_cli_rejects_unknown_scenario_with_suggestion(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ensemble", "slow-rebuil", "--draws", "2",
                                       "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "slow-rebuild" in result.output


def test_killed_ensemble_resumes_only_missing_draws(
    reference: tuple[Path, str], tmp_path: Path
) -> None:
    """Kill the whole process group mid-run, start again: same results as uninterrupted."""
    store_dir, run_id = reference
    store = tmp_path / "store"
    args = [sys.executable, "-m", "rareflow", "ensemble", SCENARIO, "--draws", "6",
            "--seed", "3", "--years", "2024-2026", "--store", str(store), "--workers", "1",
            "--batch-size", "1", "--json"]
    killed_at = start_and_kill(args, store, tmp_path / "first-attempt.log")
    assert 2 <= killed_at < 6
    resumed = subprocess.run(args, capture_output=True, text=True, timeout=300, check=True)
    payload = json.loads(resumed.stdout)
    assert payload["resumed"] == killed_at and payload["ran"] == 6 - killed_at
    assert payload["n_done"] == 6
    _assert_same_draws(_draws(store_dir, run_id), _draws(store, payload["run_id"]))


def test_more_draws_extend_the_stored_run(
    reference: tuple[Path, str], tmp_path: Path, in_process_cluster: str
) -> None:
    """``--draws 6`` after ``--draws 4`` (same seed and inputs) runs only draws 4-5, in place."""
    store_dir, run_id = reference
    store = tmp_path / "store"
    common = [SCENARIO, "--seed", "3", "--years", "2024-2026", "--store", str(store),
              "--scheduler", in_process_cluster]
    first = CliRunner().invoke(main, ["ensemble", *common, "--draws", "4", "--json"])
    assert first.exit_code == 0, first.output
    first_id = json.loads(first.stdout)["run_id"]
    extended = CliRunner().invoke(main, ["ensemble", *common, "--draws", "6"])
    assert extended.exit_code == 0, extended.output
    assert f"extending run {first_id} from 4 to 6 draws" in " ".join(extended.output.split())
    assert "2 run now, 4 resumed" in extended.output
    with RunStore(store, read_only=True) as opened:
        [run] = opened.list_runs()
    assert (run.run_id, run.n_draws, run.n_done) == (first_id, 6, 6)
    _assert_same_draws(_draws(store_dir, run_id), _draws(store, first_id))
    again = CliRunner().invoke(main, ["ensemble", *common, "--draws", "6", "--json"])
    payload = json.loads(again.stdout)
    assert (payload["run_id"], payload["ran"], payload["extended_from"]) == (first_id, 0, None)
