"""``rareflow compare`` against a real run store holding two real short runs, and NetCDF files."""

from __future__ import annotations

import csv
import json
import re

import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner, Result

from rareflow.cli import main
from rareflow.runs.netcdf import write_netcdf
from rareflow.runs.runner import run_scenario
from rareflow.store import RunStore
from rareflow.testing import put, synthetic_result

YEARS = [2024, 2025, 2026]
DY_OUTSIDE = "Dy oxide price outside china 2026"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A store with baseline and controls-2025-october (2024–2026), and both as NetCDF files."""
    root = tmp_path_factory.mktemp("compare")
    store = root / "store"
    base = run_scenario("baseline", years=YEARS, store_dir=store)
    october = run_scenario("controls-2025-october", years=YEARS, store_dir=store)
    files = {}
    for name, outcome in (("base", base), ("october", october)):
        files[name] = root / f"{name}.nc"
        write_netcdf(outcome.result, files[name])  # as `rareflow run --out` does
    return {"store": store, "base": base.run_id, "october": october.run_id, "files": files,
            "root": root}


def _compare(*args: object) -> Result:
    return CliRunner().invoke(main, ["compare", *(str(arg) for arg in args)])


def _row(table: pd.DataFrame, question: str) -> pd.Series:
    hits = table[table["question"] == question]
    assert len(hits) == 1, question
    return hits.iloc[0]


def test_table_shows_sections_side_by_side(runs):
    result = _compare(runs["base"], runs["october"], "--store", runs["store"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "A = baseline" in out and "B = controls-2025-october" in out
    sections = ["Prices", "Shortfalls", "Demand response", "Self-sufficiency",
                "Market shares and", "Import reliance", "Recycling", "Fiscal cost"]
    positions = [out.index(section) for section in sections]
    assert positions == sorted(positions)
    assert "Dy oxide price outside" in out and "B − A" in out
    assert out.index("USA defence magnet") < out.index("World shortfall, ev")
    assert out.index("World shortfall, ev") < out.index("World demand response, ev")
    assert "note:" not in result.output  # same data, same years


def test_csv_and_json_files_have_the_expected_directions(runs, tmp_path):
    csv_file, json_file = tmp_path / "cmp.csv", tmp_path / "cmp.json"
    result = _compare(runs["base"][:6], runs["october"][:6], "--store", runs["store"],
                      "--csv", csv_file, "--json-out", json_file)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv_file)
    with csv_file.open(encoding="utf-8", newline="") as handle:
        years = {row["year"] for row in csv.DictReader(handle)}
    assert "2026" in years and all(re.fullmatch(r"\d{4}", y) for y in years - {""})  # no 2026.0
    assert list(table.columns) == ["section", "question", "metric", "region", "year", "period",
                                   "unit", "definition", "value_a", "value_b", "difference",
                                   "change_pct",
                                   "answer_a", "answer_b"]
    dy = _row(table, DY_OUTSIDE)
    assert (dy["metric"], dy["year"], dy["unit"]) == ("Dy oxide price outside china", 2026,
                                                      "USD/kg")
    usa = _row(table, "USA import reliance for magnets 2026")
    assert (usa["metric"], usa["region"], usa["year"]) == ("import reliance for magnets", "USA",
                                                           2026)
    assert dy["value_b"] > dy["value_a"]  # the October controls raise ex-China Dy prices
    assert dy["difference"] == pytest.approx(dy["value_b"] - dy["value_a"])
    assert dy["change_pct"] > 0
    same = _row(table, "Dy oxide price outside china 2024")  # controls start in 2025
    assert same["difference"] == pytest.approx(0.0, abs=1e-9)
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert doc["a"]["scenario"] == "baseline"
    assert doc["b"]["scenario"] == "controls-2025-october"
    assert doc["a"]["run"] == runs["base"] and doc["years"] == [2024, 2026]
    assert doc["notes"] == []
    assert [row["question"] for row in doc["rows"]] == table["question"].tolist()
    json_dy = next(row for row in doc["rows"] if row["question"] == DY_OUTSIDE)
    assert json_dy["value_b"] == pytest.approx(dy["value_b"])
    assert (json_dy["metric"], json_dy["region"], json_dy["year"], json_dy["period"]) == (
        "Dy oxide price outside china", None, 2026, None)
    fiscal = [row for row in doc["rows"] if row["section"] == "Fiscal cost"]
    assert fiscal and all(row["period"] == "2024–2026" and row["year"] is None
                          for row in fiscal)
    assert any(row["answer_a"] is None for row in doc["rows"])  # NaN -> null


def test_json_alone_prints_json(runs):
    result = _compare(runs["base"], runs["october"], "--store", runs["store"], "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"a", "b", "years", "notes", "rows"} <= doc.keys()
    assert any(row["section"] == "Prices" for row in doc["rows"])


def test_netcdf_paths_and_mixed_inputs(runs):
    files = runs["files"]
    from_files = _compare(files["base"], files["october"], "--json",
                          "--store", runs["root"] / "no-store")
    assert from_files.exit_code == 0, from_files.output
    mixed = _compare(runs["base"], files["october"], "--store", runs["store"], "--json")
    assert mixed.exit_code == 0, mixed.output
    rows_files = {r["question"]: r for r in json.loads(from_files.stdout)["rows"]}
    rows_mixed = {r["question"]: r for r in json.loads(mixed.stdout)["rows"]}
    assert rows_files[DY_OUTSIDE]["value_b"] == pytest.approx(rows_mixed[DY_OUTSIDE]["value_b"])
    assert rows_files[DY_OUTSIDE]["value_b"] > rows_files[DY_OUTSIDE]["value_a"]
    assert json.loads(from_files.stdout)["a"]["run"] == str(files["base"])


def test_unknown_id_names_the_closest(runs):
    real = runs["october"]
    typo = real[:-1] + ("0" if real[-1] != "0" else "1")
    result = _compare(runs["base"], typo, "--store", runs["store"])
    assert result.exit_code == 2
    assert f"no run '{typo}'" in result.output
    assert real in result.output and "closest ids" in result.output
    by_name = _compare("baseline", runs["october"], "--store", runs["store"])
    assert by_name.exit_code == 2
    assert "runs of that scenario" in by_name.output and runs["base"] in by_name.output


def test_missing_store_file_and_bad_netcdf(runs, tmp_path):
    result = _compare("abc123", runs["files"]["base"], "--store", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no run store at" in result.output
    assert _compare(tmp_path / "absent.nc", runs["files"]["base"]).exit_code == 2
    junk = tmp_path / "junk.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(junk, engine="scipy")
    bad = _compare(junk, runs["files"]["base"])
    assert bad.exit_code == 2
    assert "not a rareflow result" in bad.output


def test_different_spans_and_data_versions_are_reported(runs, tmp_path):
    short = xr.load_dataset(runs["files"]["october"]).sel(year=[2024, 2025])
    short.attrs["data_version"] = "rareflow-world test-edit"
    short_file = tmp_path / "short.nc"
    short.to_netcdf(short_file, engine="scipy")
    result = _compare(runs["base"], short_file, "--store", runs["store"])
    assert result.exit_code == 0, result.output
    assert "different data versions" in result.output
    assert "different year spans: A 2024–2026, B 2024–2025" in result.output
    assert "2026" not in result.stdout.split("B − A")[1]  # shared years only
    doc = json.loads(_compare(runs["base"], short_file, "--store", runs["store"],
                              "--json").stdout)
    assert doc["years"] == [2024, 2025]
    assert len(doc["notes"]) == 2


def test_years_window(runs):
    result = _compare(runs["base"], runs["october"], "--store", runs["store"],
                      "--years", "2025-2026", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["years"] == [2025, 2026]
    questions = [row["question"] for row in doc["rows"]]
    assert DY_OUTSIDE in questions and "Dy oxide price outside china 2025" in questions
    assert not any(q.endswith(" 2024") for q in questions)
    outside = _compare(runs["base"], runs["october"], "--store", runs["store"],
                       "--years", "2030-2031")
    assert outside.exit_code == 2
    assert "share no year in 2030–2031" in outside.output
    assert _compare(runs["base"], runs["october"], "--years", "2031-2030").exit_code == 2


def test_ensemble_runs_need_a_draw(runs, tmp_path):
    store_dir = tmp_path / "store"
    draws = [xr.load_dataset(runs["files"][name]) for name in ("base", "october")]
    with RunStore(store_dir) as store:
        info = store.create_run(kind="ensemble", scenario_name="mixed", scenario_text="x",
                                data_version=draws[0].attrs["data_version"],
                                code_version="test", seed=1, n_draws=2)
        for draw, ds in enumerate(draws):
            store.write_draw(info.run_id, draw, ds)
    needs = _compare(info.run_id, runs["files"]["base"], "--store", store_dir)
    assert needs.exit_code == 2
    assert "pick one with --draw" in needs.output
    picked = _compare(info.run_id, runs["files"]["base"], "--store", store_dir, "--draw", "1",
                      "--json")
    assert picked.exit_code == 0, picked.output
    doc = json.loads(picked.stdout)
    assert doc["a"]["run"] == f"{info.run_id}#1"
    dy = next(row for row in doc["rows"] if row["question"] == DY_OUTSIDE)
    assert dy["value_a"] > dy["value_b"]  # draw 1 is the October run, B the baseline


def test_shortfall_and_demand_response_are_separate_rows(tmp_path):
    """Two synthetic results as NetCDF files: each outcome keeps its own name and section."""
    a, b = synthetic_result(1, regions=("CHN", "USA")), synthetic_result(1, regions=("CHN", "USA"))
    put(b, "shortfall", 9.0, year=2026, region="USA", sector="defence")
    put(b, "demand_response", 4.0, year=2026, region="USA", sector="defence")
    files = [write_netcdf(ds, tmp_path / f"{name}.nc") for name, ds in (("a", a), ("b", b))]
    result = _compare(*files, "--json", "--store", tmp_path / "no-store")
    assert result.exit_code == 0, result.output
    rows = {row["question"]: row for row in json.loads(result.stdout)["rows"]}
    short = rows["USA defence magnet shortfall 2026"]
    response = rows["USA defence magnet demand response 2026"]
    assert (short["section"], short["value_b"]) == ("Shortfalls", 9.0)
    assert (response["section"], response["value_b"]) == ("Demand response", 4.0)
    assert response["answer_b"] == "4 t magnet given up to prices above the reference"
    assert rows["World shortfall, defence 2026"]["section"] == "Shortfalls"
    assert rows["World demand response, defence 2026"]["section"] == "Demand response"
    assert not any("unmet" in question.lower() for question in rows)
    table = _compare(*files, "--store", tmp_path / "no-store").stdout
    assert table.index("Shortfalls") < table.index("Demand response")


def test_help_lists_compare() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "compare" in result.output


# --- 80 columns and piped output -------------------------------------------------------------


def _narrow(*args: object, columns: int = 80) -> Result:
    """The command as it prints piped or in an 80-column terminal (CliRunner is not a tty)."""
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(main, [str(arg) for arg in args])


def _assert_fits(text: str, columns: int = 80) -> None:
    from rich.cells import cell_len

    too_long = [line for line in text.splitlines() if cell_len(line.rstrip()) > columns]
    assert not too_long, too_long
    assert "…" not in text  # nothing cut short


def test_compare_fits_80_columns_without_cutting_words(runs):
    result = _narrow("compare", runs["base"], runs["october"], "--store", runs["store"])
    assert result.exit_code == 0, result.output
    _assert_fits(result.stdout)
    words = set(result.stdout.split())
    doc = json.loads(_compare(runs["base"], runs["october"], "--store", runs["store"],
                              "--json").stdout)
    for row in doc["rows"]:  # every word of every metric's label is printed whole
        stem = row["question"].rsplit(" ", 1)[0] if row["question"][-1].isdigit() \
            else row["question"]
        assert set(stem.split()) <= words, stem
    for column in ("A", "B", "B − A", "change"):
        assert column in result.stdout


def test_compare_keeps_one_wide_table_in_a_wide_terminal(runs):
    result = _narrow("compare", runs["base"], runs["october"], "--store", runs["store"],
                     columns=200)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "metric" in line)
    assert header.split() == ["metric", "year", "A", "B", "B", "−", "A", "change"]


def test_runs_list_fits_80_columns_with_names_and_times_whole(runs):
    from rareflow.store import RunStore

    with RunStore(runs["store"], read_only=True) as store:
        stored = store.list_runs()
    for columns in (80, 60):
        result = _narrow("runs", "list", "--store", runs["store"], columns=columns)
        assert result.exit_code == 0, result.output
        _assert_fits(result.stdout, columns)
        for run in stored:
            assert run.run_id in result.stdout
            assert run.scenario_name in result.stdout.split()
            assert run.created_at.strftime("%Y-%m-%d %H:%M") in result.stdout


# --- --json is a flag, --json-out FILE the file ----------------------------------------------


def test_json_flag_may_come_before_the_runs(runs, tmp_path):
    result = _compare("--json", runs["base"], runs["october"], "--store", runs["store"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["a"]["run"] == runs["base"] and doc["b"]["run"] == runs["october"]
    out = tmp_path / "cmp.json"
    both = _compare("--json-out", out, "--json", runs["base"], runs["october"], "--store",
                    runs["store"])
    assert both.exit_code == 0, both.output
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(both.stdout) == doc
