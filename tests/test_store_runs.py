"""Runs in the store: create, find (resume), list, prefix lookup, delete; draw bookkeeping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from rareflow.store import (
    AmbiguousRunError,
    DrawNotFoundError,
    DrawStateError,
    RunNotFoundError,
    RunStore,
    StoreReadOnlyError,
)
from rareflow.testing import synthetic_result

SPEC: dict[str, Any] = {
    "kind": "ensemble",
    "scenario_name": "controls-2025-october",
    "scenario_text": "name: controls-2025-october\nextends: baseline\n",
    "data_version": "world-2025.11",
    "code_version": "0.1.0+abc123",
    "seed": 20251009,
    "n_draws": 3,
    "params": {"years": [2024, 2040], "workers": 2},
}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs", durable=False)


def test_create_and_get_run_keeps_all_inputs(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    assert len(run.run_id) == 12
    got = store.get_run(run.run_id)
    assert got == run
    assert got.scenario_text == SPEC["scenario_text"]
    assert got.params == SPEC["params"]
    assert got.seed == SPEC["seed"]
    assert (got.n_draws, got.n_done, got.n_failed, got.status) == (3, 0, 0, "incomplete")
    assert got.created_at.tzinfo is not None


def test_create_run_positional_arguments_follow_the_documented_order(store: RunStore) -> None:
    run = store.create_run("single", "baseline", "name: baseline\n", "d", "c", 1, 1, {"a": 1})
    assert (run.kind, run.scenario_name, run.n_draws, run.params) == (
        "single", "baseline", 1, {"a": 1})


def test_find_run_matches_identical_inputs_only(store: RunStore) -> None:
    assert store.find_run(**SPEC) is None
    run = store.create_run(**SPEC)
    assert store.find_run(**SPEC) == run
    # the name is only a label; parameter order does not matter; numpy scalars are numbers
    same = {**SPEC, "scenario_name": "renamed",
            "params": {"workers": np.int64(2), "years": [2024, 2040]}}
    assert store.find_run(**same) == run
    for change in ({"seed": 1}, {"n_draws": 4}, {"data_version": "x"}, {"code_version": "y"},
                   {"scenario_text": "name: other\n"}, {"params": {"workers": 3}}):
        assert store.find_run(**{**SPEC, **change}) is None, change


def test_find_run_returns_newest_of_identical_runs(store: RunStore) -> None:
    store.create_run(**SPEC)
    newer = store.create_run(**SPEC)
    found = store.find_run(**SPEC)
    assert found is not None and found.run_id == newer.run_id


def test_invalid_runs_are_rejected(store: RunStore) -> None:
    with pytest.raises(ValueError, match="kind"):
        store.create_run(**{**SPEC, "kind": "batch"})
    with pytest.raises(ValueError, match="single"):
        store.create_run(**{**SPEC, "kind": "single", "n_draws": 2})
    with pytest.raises(ValueError, match="n_draws"):
        store.create_run(**{**SPEC, "n_draws": 0})
    with pytest.raises(ValueError, match="JSON"):
        store.create_run(**{**SPEC, "params": {"path": Path("x")}})
    assert store.list_runs() == []


def test_list_runs_newest_first_with_counts(store: RunStore) -> None:
    first = store.create_run(**SPEC)
    second = store.create_run(**{**SPEC, "seed": 2})
    store.write_draw(first.run_id, 0, synthetic_result(0))
    store.record_failure(first.run_id, 1, "infeasible")
    runs = store.list_runs()
    assert [run.run_id for run in runs] == [second.run_id, first.run_id]
    listed = runs[1]
    assert (listed.n_done, listed.n_failed, listed.n_pending) == (1, 1, 1)
    assert listed.n_bytes > 0
    assert "production" in listed.variables


def test_prefix_lookup(store: RunStore) -> None:
    runs = [store.create_run(**{**SPEC, "seed": seed}) for seed in range(40)]
    target = runs[0]
    # the shortest prefix that is unique among the 40 ids
    for length in range(1, 13):
        prefix = target.run_id[:length]
        if sum(run.run_id.startswith(prefix) for run in runs) == 1:
            break
    assert store.get_run(prefix).run_id == target.run_id
    shared = next(
        run.run_id[:1] for run in runs
        if sum(other.run_id[:1] == run.run_id[:1] for other in runs) > 1
    )
    with pytest.raises(AmbiguousRunError, match="several runs"):
        store.get_run(shared)
    with pytest.raises(RunNotFoundError):
        store.get_run("zzzz")
    with pytest.raises(RunNotFoundError):
        store.get_run("%")  # LIKE wildcards are matched literally
    with pytest.raises(RunNotFoundError):
        store.get_run("")


def test_status_follows_draws(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    store.record_failure(run.run_id, 1, "Traceback ...\nRuntimeError: infeasible")
    store.write_draw(run.run_id, 2, synthetic_result(2))
    assert store.get_run(run.run_id).status == "failed"
    assert store.completed_draws(run.run_id) == {0, 2}
    assert store.failed_draws(run.run_id) == {1}
    assert store.draw_errors(run.run_id) == {1: "Traceback ...\nRuntimeError: infeasible"}
    with pytest.raises(DrawNotFoundError, match="infeasible"):
        store.load_result(run.run_id, 1)
    # a failed draw can be redone; the error goes away
    store.write_draw(run.run_id, 1, synthetic_result(1))
    assert store.failed_draws(run.run_id) == set()
    assert store.draw_errors(run.run_id) == {}
    assert store.get_run(run.run_id).status == "complete"


def test_failure_can_be_recorded_again_and_counts_attempts(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    store.record_failure(run.run_id, 0, "first")
    store.record_failure(run.run_id, 0, "second")
    assert store.draw_errors(run.run_id) == {0: "second"}
    attempts = store.query("SELECT attempts FROM draws WHERE run_id = ?", [run.run_id])
    assert attempts["attempts"].tolist() == [2]


def test_done_draws_cannot_be_overwritten_or_failed(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    with pytest.raises(DrawStateError, match="already done"):
        store.write_draw(run.run_id, 0, synthetic_result(9))
    with pytest.raises(DrawStateError, match="already done"):
        store.record_failure(run.run_id, 0, "late failure")
    with pytest.raises(DrawStateError, match="out of range"):
        store.write_draw(run.run_id, 3, synthetic_result(3))
    with pytest.raises(DrawStateError, match="already done"):
        store.write_draws(run.run_id, {1: synthetic_result(1), 0: synthetic_result(0)})
    # the batch is all or nothing: draw 1 was not written either
    assert store.completed_draws(run.run_id) == {0}
    assert not (store.root / "results" / run.run_id / "draw=1").exists()


def test_missing_draws_explain_themselves(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    with pytest.raises(DrawNotFoundError, match="not done yet"):
        store.load_result(run.run_id, 0)
    with pytest.raises(DrawNotFoundError, match="out of range"):
        store.load_result(run.run_id, 7)
    with pytest.raises(DrawNotFoundError, match="no completed draws"):
        store.load_result(run.run_id)


def test_delete_run_removes_rows_and_files(store: RunStore) -> None:
    keep = store.create_run(**{**SPEC, "seed": 1})
    gone = store.create_run(**SPEC)
    store.write_draw(keep.run_id, 0, synthetic_result(0))
    store.write_draw(gone.run_id, 0, synthetic_result(0))
    store.write_draw(gone.run_id, 1, synthetic_result(1))
    gone_dir = store.root / "results" / gone.run_id
    assert gone_dir.is_dir()
    deleted = store.delete_run(gone.run_id[:8])
    assert deleted.run_id == gone.run_id
    assert not gone_dir.exists()
    assert [run.run_id for run in store.list_runs()] == [keep.run_id]
    with pytest.raises(RunNotFoundError):
        store.get_run(gone.run_id)
    left = store.query("SELECT count(*) AS n FROM draws WHERE run_id = ?", [gone.run_id])
    assert int(left["n"].iloc[0]) == 0
    # the surviving run still reads (its layout was shared and kept)
    assert store.load_result(keep.run_id, 0).sizes["year"] == 3


def test_read_only_store_never_writes(tmp_path: Path) -> None:
    reader = RunStore(tmp_path / "absent", read_only=True)
    assert reader.list_runs() == []
    assert not (tmp_path / "absent").exists()
    with pytest.raises(StoreReadOnlyError):
        reader.create_run(**SPEC)
    writer = RunStore(tmp_path / "runs", durable=False)
    run = writer.create_run(**SPEC)
    reader = RunStore(tmp_path / "runs", read_only=True)
    assert reader.get_run(run.run_id) == run
    with pytest.raises(StoreReadOnlyError):
        reader.delete_run(run.run_id)


def test_metadata_is_plain_duckdb(store: RunStore) -> None:
    run = store.create_run(**SPEC)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    con = duckdb.connect(str(store.root / "runs.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT run_id, status FROM draws").fetchall()
    finally:
        con.close()
    assert rows == [(run.run_id, "done")]
