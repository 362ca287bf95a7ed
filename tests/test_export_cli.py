"""``rareflow export``: a stored run as a tidy long table that pandas and DuckDB read, zeros in.

Also checks what the run store's own Parquet files say: a ``run_id`` and a ``draw`` column, and
that the DuckDB view printed in ``docs/results.md`` restores the zeros those files leave out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xarray as xr
from click.testing import CliRunner, Result

from rareflow.cli import main
from rareflow.model.results_contract import VARIABLES
from rareflow.model.results_doc import dense_view_sql
from rareflow.runs.runner import run_scenario
from rareflow.store import RunStore, files
from rareflow.testing import synthetic_result

DOCS = Path(__file__).resolve().parents[1] / "docs" / "results.md"
LEADING = ["run_id", "scenario", "variable", "units"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A store with a real two-year controls run and a synthetic three-draw ensemble.

    The ensemble's draws differ in their zero cells and draw 1 in its years; draw 2 failed.
    """
    root = tmp_path_factory.mktemp("export")
    store_dir = root / "store"
    single = run_scenario("controls-2025-october", years=[2024, 2025], store_dir=store_dir)
    draws = [synthetic_result(0), synthetic_result(1, years=(2024, 2025))]
    draws[0]["shortfall"].loc[{"region": "CHN"}] = 0.0
    draws[1]["shortfall"].loc[{"sector": "ev"}] = 0.0
    draws[1]["trade"].loc[{"product": "magnet"}] = 0.0
    with RunStore(store_dir) as store:
        ensemble = store.create_run("ensemble", "synthetic", "x", "world-2025.11", "test", 7, 4)
        for number, ds in enumerate(draws):
            store.write_draw(ensemble.run_id, number, ds)
        store.record_failure(ensemble.run_id, 2, "Traceback ...\nInfeasibleYearError: 2025")
    return {"store": store_dir, "single": single.run_id, "ensemble": ensemble.run_id,
            "result": single.result, "draws": draws, "root": root}


def _export(stored: dict[str, Any], *args: object) -> Result:
    return CliRunner().invoke(main, ["export", *(str(arg) for arg in args),
                                     "--store", str(stored["store"])])


def _means_by_variable(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby("variable", sort=False)["value"].agg(["mean", "size"])


def _check_dense(means: pd.DataFrame, result: xr.Dataset) -> None:
    """Each variable's mean and row count over the table are those of the dense variable."""
    assert list(means.index) == list(result.data_vars)
    for name, row in means.iterrows():
        dense = result[str(name)]
        assert int(row["size"]) == dense.size, name
        assert float(row["mean"]) == pytest.approx(float(dense.mean()), rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_single_run_table_has_every_cell_in_pandas_and_duckdb(stored, tmp_path, fmt):
    out = tmp_path / f"run.{fmt}"
    result = _export(stored, stored["single"][:8], "--format", fmt, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    ds: xr.Dataset = stored["result"]
    assert summary["rows"] == sum(int(ds[name].size) for name in ds.data_vars)
    assert summary["run_id"] == stored["single"] and summary["draws"] == [0]
    table = pd.read_csv(out, low_memory=False) if fmt == "csv" \
        else pd.read_parquet(out)
    assert list(table.columns[:4]) == LEADING and table.columns[-1] == "value"
    assert list(table.columns[4:9]) == ["year", "region", "stage", "element", "origin"]
    assert "draw" not in table.columns  # a single run has one result
    assert (table["run_id"] == stored["single"]).all()
    assert (table["scenario"] == "controls-2025-october").all()
    assert (table["value"] == 0).sum() > len(table) // 2  # the zeros are there
    price = table[table["variable"] == "price"]["value"]
    assert price.isna().sum() == int(ds["price"].isnull().sum()) > 0  # NaN: a missing value
    _check_dense(_means_by_variable(table), ds)
    trade = table[table["variable"] == "trade"]
    assert (trade["units"] == VARIABLES["trade"].units).all()
    assert trade["sector"].isna().all() and trade["product"].notna().all()
    cell = trade[(trade["year"] == 2025) & (trade["product"] == "oxide")
                 & (trade["exporter"] == "CHN") & (trade["importer"] == "USA")
                 & (trade["element"] == "Dy") & (trade["origin"] == "china")]
    expected = ds["trade"].sel(year=2025, product="oxide", exporter="CHN", importer="USA",
                               element="Dy", origin="china")
    assert cell["value"].tolist() == [float(expected)]
    fiscal = table[table["variable"] == "fiscal_cost"]
    types = dict(zip(ds["instrument"].values, ds["instrument_type"].values, strict=True))
    assert fiscal["instrument_type"].tolist() == [types[i] for i in fiscal["instrument"]]

    reader = "read_csv" if fmt == "csv" else "read_parquet"
    sql = (f"SELECT variable, avg(value) AS mean, count(*) AS size FROM {reader}('{out}') "
           "GROUP BY variable")
    in_duckdb = duckdb.sql(sql).df().set_index("variable").loc[list(ds.data_vars)]
    _check_dense(in_duckdb, ds)
    year_type = duckdb.sql(f"SELECT DISTINCT typeof(year) FROM {reader}('{out}')").fetchall()
    assert year_type == [("BIGINT",)]


def test_xlsx_of_chosen_variables_reads_in_pandas(stored, tmp_path):
    out = tmp_path / "run.xlsx"  # the format from the suffix
    result = _export(stored, stored["single"], "--out", out, "--variable", "price",
                     "--variable", "shortfall")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    table = pd.read_excel(out, sheet_name="export")
    ds: xr.Dataset = stored["result"]
    assert table["variable"].unique().tolist() == ["shortfall", "price"]  # the run's order
    _check_dense(_means_by_variable(table), ds[["shortfall", "price"]])
    assert table["year"].dtype.kind == "i"


def test_ensemble_exports_every_done_draw_or_the_one_asked_for(stored, tmp_path):
    out = tmp_path / "ensemble.parquet"
    result = _export(stored, stored["ensemble"], "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns[:5]) == ["run_id", "scenario", "draw", "variable", "units"]
    assert sorted(table["draw"].unique()) == [0, 1]  # draw 2 failed, draw 3 never ran
    for draw, ds in enumerate(stored["draws"]):
        rows = table[table["draw"] == draw]
        _check_dense(_means_by_variable(rows), ds)
    assert set(table.loc[table["draw"] == 1, "year"]) == {2024, 2025}
    by_duckdb = duckdb.sql(f"SELECT draw, variable, avg(value) AS mean, count(*) AS size "
                           f"FROM read_parquet('{out}') WHERE variable = 'shortfall' "
                           "GROUP BY draw, variable ORDER BY draw").df()
    for draw, ds in enumerate(stored["draws"]):
        row = by_duckdb.iloc[draw]
        assert int(row["size"]) == ds["shortfall"].size
        assert float(row["mean"]) == pytest.approx(float(ds["shortfall"].mean()), rel=1e-12)
    one = tmp_path / "draw1.csv"
    assert _export(stored, stored["ensemble"], "--draw", "1", "--out", one).exit_code == 0
    table = pd.read_csv(one, low_memory=False)
    assert table["draw"].unique().tolist() == [1]
    _check_dense(_means_by_variable(table), stored["draws"][1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draw", "0"], "is a single run with one result; --draw applies to ensembles only"),
        (["--format", "xslx"], "unknown format 'xslx'; did you mean 'xlsx'? "
                               "(formats: csv, parquet, xlsx)"),
        (["--variable", "prices"], "run has no variable 'prices'; did you mean 'price'?"),
    ],
)
def test_bad_requests_for_a_single_run(stored, tmp_path, args, message):
    result = _export(stored, stored["single"], "--out", tmp_path / "x.csv", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not list(tmp_path.iterdir())  # nothing written, no partial file


def test_bad_draws_of_an_ensemble(stored, tmp_path):
    out = tmp_path / "x.csv"
    far = _export(stored, stored["ensemble"], "--draw", "9", "--out", out)
    assert far.exit_code == 2
    assert "draw 9 is out of range" in far.output and "4 draws, 0–3" in far.output
    failed = _export(stored, stored["ensemble"], "--draw", "2", "--out", out)
    assert failed.exit_code == 2
    text = " ".join(failed.output.split())
    assert "draw 2 of run" in text and "failed: InfeasibleYearError: 2025" in text
    assert "done draws: 0–1" in text
    pending = _export(stored, stored["ensemble"], "--draw", "3", "--out", out)
    assert pending.exit_code == 2 and "is not done yet" in pending.output
    assert not out.exists()


def test_unknown_run_names_the_closest_id(stored, tmp_path):
    real = stored["single"]
    typo = real[:-1] + ("0" if real[-1] != "0" else "1")
    result = _export(stored, typo, "--out", tmp_path / "x.csv")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"no run '{typo}'" in text and "closest ids" in text and real in text
    no_store = CliRunner().invoke(main, ["export", real, "--out", str(tmp_path / "x.csv"),
                                         "--store", str(tmp_path / "nowhere")])
    assert no_store.exit_code == 2 and "no run store at" in no_store.output


def test_unwritable_targets_are_refused_before_reading(stored, tmp_path):
    missing = _export(stored, stored["single"], "--out", tmp_path / "no" / "x.csv")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    folder = _export(stored, stored["single"], "--out", tmp_path)
    assert folder.exit_code == 2 and "is a folder" in folder.output
    unknown = _export(stored, stored["single"], "--out", tmp_path / "x.txt")
    assert unknown.exit_code == 2 and "cannot tell the format" in unknown.output
    existing = tmp_path / "old.csv"
    existing.write_text("keep me\n", encoding="utf-8")
    kept = _export(stored, stored["single"], "--out", existing, "--variable", "surplus")
    assert kept.exit_code == 2 and "give --force" in kept.output
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    forced = _export(stored, stored["single"], "--out", existing, "--variable", "surplus",
                     "--force")
    assert forced.exit_code == 0, forced.output
    assert len(pd.read_csv(existing)) == stored["result"]["surplus"].size


def test_xlsx_over_the_sheet_limit_is_refused(stored, tmp_path, monkeypatch):
    import rareflow.runs.export as export

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 100)
    result = _export(stored, stored["single"], "--out", tmp_path / "big.xlsx")
    assert result.exit_code == 2
    assert "more than an xlsx sheet holds" in result.output and "--variable" in result.output
    assert not list(tmp_path.iterdir())


# -- the store's own files ----------------------------------------------------------------------


def test_store_files_carry_run_id_and_draw_columns(stored):
    store_dir, run_id = stored["store"], stored["ensemble"]
    table = pq.read_table(files.variable_file(store_dir, run_id, 1, "price"))
    assert table.column_names[-3:] == ["value", "run_id", "draw"]
    assert set(table.column("run_id").to_pylist()) == {run_id}
    assert set(table.column("draw").to_pylist()) == {1}
    # read without the folder names: the columns alone say which run and draw a row is
    glob = str(store_dir / "results" / "*" / "draw=*" / "surplus.parquet")
    rows = duckdb.sql(f"SELECT run_id, draw, count(*) AS n FROM read_parquet('{glob}', "
                      "hive_partitioning = false) GROUP BY ALL ORDER BY ALL").fetchall()
    assert rows == sorted([(stored["single"], 0, 2), (run_id, 0, 3), (run_id, 1, 2)])


def _docs_sql() -> str:
    found = re.search(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert found is not None, "docs/results.md has no SQL block"
    return found.group(1)


def _dense_in_duckdb(store_dir: Path, sql: str, view: str, monkeypatch) -> pd.DataFrame:
    monkeypatch.chdir(store_dir)  # the docs start DuckDB in the store's folder
    con = duckdb.connect()
    try:
        con.execute(sql)
        return con.sql(f"SELECT * FROM {view}").df()
    finally:
        con.close()


def test_docs_duckdb_view_restores_the_zeros(stored, monkeypatch):
    """The SQL printed in docs/results.md, run as written, gives every cell of shortfall."""
    sql = _docs_sql()
    assert sql.strip() == dense_view_sql(VARIABLES["shortfall"]).strip()
    store_dir, run_id = stored["store"], stored["ensemble"]
    dense = _dense_in_duckdb(store_dir, sql.replace("RUN", run_id), "shortfall_dense",
                             monkeypatch)
    with RunStore(store_dir, read_only=True) as store:
        expected = store.load_variable(run_id, "shortfall")
        sparse = store.query(f"SELECT avg(value) AS mean FROM result('{run_id}', 'shortfall')")
    keys = ["draw", "year", "region", "sector"]
    dense = dense.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert len(dense) == len(expected) == sum(ds["shortfall"].size for ds in stored["draws"])
    for key in keys:
        assert dense[key].astype(str).tolist() == expected[key].astype(str).tolist(), key
    np.testing.assert_array_equal(dense["value"].to_numpy(), expected["value"].to_numpy())
    for draw, ds in enumerate(stored["draws"]):
        mean = dense.loc[dense["draw"] == draw, "value"].mean()
        assert mean == pytest.approx(float(ds["shortfall"].mean()), rel=1e-12)
    overall = float(np.concatenate([ds["shortfall"].values.ravel() for ds in stored["draws"]])
                    .mean())
    assert dense["value"].mean() == pytest.approx(overall, rel=1e-12)
    assert float(sparse["mean"].iloc[0]) > overall * 1.1  # the stored rows alone mislead


def test_the_same_view_restores_trade_of_a_real_run(stored, monkeypatch):
    run_id = stored["single"]
    sql = dense_view_sql(VARIABLES["trade"], run_id)
    dense = _dense_in_duckdb(stored["store"], sql, "trade_dense", monkeypatch)
    trade = stored["result"]["trade"]
    assert len(dense) == trade.size
    assert (dense["value"] == 0).sum() == int((trade == 0).sum())
    assert dense["value"].mean() == pytest.approx(float(trade.mean()), rel=1e-12)
