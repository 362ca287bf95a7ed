"""Tidy reads across draws through DuckDB: load_variable, query and its result() macro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rareflow.store.store as store_module
from rareflow.store import DrawNotFoundError, RunStore, VariableNotFoundError
from rareflow.testing import synthetic_result

N_DRAWS = 200


def _tidy(draw: int, variable: str) -> pd.DataFrame:
    """What load_variable should return for one draw, built independently with xarray."""
    frame = synthetic_result(draw)[variable].to_dataframe(name="value").reset_index()
    frame.insert(0, "draw", draw)
    return frame


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str]:
    store = RunStore(tmp_path_factory.mktemp("big"), durable=False)
    run = store.create_run("ensemble", "baseline", "name: baseline\n", "d", "c", 1, N_DRAWS)
    for start in range(0, N_DRAWS, 25):
        store.write_draws(run.run_id, {d: synthetic_result(d) for d in range(start, start + 25)})
    return store, run.run_id


def test_load_variable_over_200_draws_reads_parquet_with_duckdb(
    big_store: tuple[RunStore, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = big_store

    def no_xarray(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_variable must not rebuild draws as xarray Datasets")

    monkeypatch.setattr(store_module, "decode_dataset", no_xarray)
    frame = store.load_variable(run_id, "price")
    dims = ["year", "stage", "region", "element", "origin"]
    assert list(frame.columns) == ["draw", *dims, "value"]
    per_draw = int(np.prod([synthetic_result(0).sizes[d] for d in dims]))
    assert len(frame) == N_DRAWS * per_draw
    assert frame["draw"].tolist() == sorted(frame["draw"].tolist())
    assert frame["draw"].nunique() == N_DRAWS
    assert frame["year"].dtype == np.int64
    for draw in (0, 117, N_DRAWS - 1):
        got = frame[frame["draw"] == draw].reset_index(drop=True)
        expected = _tidy(draw, "price")
        np.testing.assert_array_equal(got["value"].to_numpy(), expected["value"].to_numpy())
        for dim in dims:
            assert got[dim].tolist() == expected[dim].tolist(), dim


def test_load_variable_filters_draws(big_store: tuple[RunStore, str]) -> None:
    store, run_id = big_store
    frame = store.load_variable(run_id, "surplus", draws=[5, 3, 999])
    assert frame["draw"].unique().tolist() == [3, 5]
    expected = pd.concat([_tidy(3, "surplus"), _tidy(5, "surplus")], ignore_index=True)
    np.testing.assert_allclose(frame["value"], expected["value"])


def test_query_aggregates_across_draws_in_duckdb(big_store: tuple[RunStore, str]) -> None:
    store, run_id = big_store
    out = store.query(
        "SELECT year, quantile_cont(value, 0.5) AS p50, count(DISTINCT draw) AS n "
        "FROM result(?, 'shortfall') WHERE sector = 'defence' AND region = 'USA' "
        "GROUP BY year ORDER BY year",
        [run_id],
    )
    assert out["year"].tolist() == [2024, 2025, 2026]
    assert out["n"].tolist() == [N_DRAWS] * 3
    values = np.array([synthetic_result(d)["shortfall"].sel(sector="defence", region="USA").values
                       for d in range(N_DRAWS)])
    np.testing.assert_allclose(out["p50"], np.median(values, axis=0))


def test_query_sees_runs_and_relative_parquet_paths(big_store: tuple[RunStore, str]) -> None:
    store, run_id = big_store
    runs = store.query("SELECT run_id, n_draws FROM runs")
    assert runs.to_dict("records") == [{"run_id": run_id, "n_draws": N_DRAWS}]
    n = store.query(
        f"SELECT count(*) AS n FROM read_parquet('results/{run_id}/draw=*/surplus.parquet')"
    )
    assert int(n["n"].iloc[0]) == N_DRAWS * 3
    assert store.variable_glob(run_id[:6], "surplus").endswith(
        f"{run_id}/draw=*/surplus.parquet")


def test_query_is_read_only(big_store: tuple[RunStore, str]) -> None:
    store, _ = big_store
    store.query("DELETE FROM runs")  # deletes from the snapshot only
    assert len(store.list_runs()) == 1


def test_load_variable_errors(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 2)
    with pytest.raises(DrawNotFoundError, match="no completed draws"):
        store.load_variable(run.run_id, "price")
    store.write_draw(run.run_id, 0, synthetic_result(0))
    with pytest.raises(VariableNotFoundError, match="production"):
        store.load_variable(run.run_id, "prices")


def test_load_variable_ignores_failed_and_unrecorded_draws(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 3)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    store.record_failure(run.run_id, 1, "boom")
    # a draw folder whose commit never happened (as after a crash) must stay invisible
    from rareflow.store import files
    from rareflow.store.codec import encode_dataset

    folder, _ = files.write_staged(store.staging_dir, run.run_id, 2,
                                   encode_dataset(synthetic_result(2)).tables, durable=False)
    files.publish_staged(tmp_path, run.run_id, 2, folder, durable=False)
    assert store.load_variable(run.run_id, "surplus")["draw"].unique().tolist() == [0]
    macro = store.query("SELECT DISTINCT draw FROM result(?, 'surplus')", [run.run_id])
    assert macro["draw"].tolist() == [0]
