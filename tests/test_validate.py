"""``rareflow validate`` (issue #19): a backtest beside a small historical record.

The backtest here runs a two-year scenario on a test world (the 2024 data re-based to 2010);
the record is written by the test, so the comparison is checked against numbers it knows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rareflow.cli import main
from rareflow.data.history import load_record
from rareflow.data.loader import load_world
from rareflow.model.errors import DataError
from rareflow.runs.runner import prepare_run, run_parsed_scenario
from rareflow.runs.validation import (
    Backtest,
    Movement,
    backtest_names,
    model_series,
    run_backtests,
)
from rareflow.runs.validation_page import blocks, html_page, markdown, number, percent, write_docs
from world_vintages import TEST_WORLD, WORLDS_ENV, write_test_world

RECORD = """\
series:
  - id: price_NdPr_outside_china
    title: NdPr oxide price outside China
    unit: USD/kg
    variable: price
    select: {stage: separation, element: NdPr, region: outside_china}
    aggregation: market_price
  - id: price_NdPr_china
    title: NdPr oxide price in China
    unit: USD/kg
    variable: price
    select: {stage: separation, element: NdPr, region: china}
    aggregation: market_price
  - id: exports_china
    title: China's exports of oxide and metal
    unit: t REO
    variable: trade
    select: {exporter: china, importer: outside_china, product: [oxide, metal]}
  - id: mining_outside_china
    title: Mine output outside China
    unit: t REO
    variable: production
    select: {stage: mining, region: outside_china}
    aggregation: sum
  - id: price_Dy_china
    title: Dy oxide price in China
    unit: USD/kg
    variable: price
    select: {stage: separation, element: Dy, region: china}
    aggregation: market_price
points:
  - {series: price_NdPr_outside_china, year: 2009, value: 20.0, unit: USD/kg,
     assumption: "test point"}
  - {series: price_NdPr_outside_china, year: 2010, value: 40.0, unit: USD/kg,
     assumption: "test point", element: NdPr, market: outside_china}
  - {series: price_NdPr_outside_china, year: 2011, value: 200.0, unit: USD/kg,
     source: "a test publication, table 1"}
  - {series: price_NdPr_china, year: 2011, value: 60.0, unit: USD/kg, assumption: "test point"}
  - {series: exports_china, year: 2010, value: 30000.0, unit: t REO, assumption: "test point"}
  - {series: price_Dy_china, year: 2005, value: 100.0, unit: USD/kg, assumption: "before"}
"""

SCENARIO = f"""\
name: backtest-tiny
description: A two-year backtest on the test world.
world: "{TEST_WORLD}"
years: {{start: 2010, end: 2011}}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The test world on ``RAREFLOW_WORLDS``, a backtest scenario file and a record file."""
    root = tmp_path_factory.mktemp("validate")
    write_test_world(root / "worlds")
    (root / "backtest-tiny.yaml").write_text(SCENARIO, encoding="utf-8")
    (root / "record.yaml").write_text(RECORD, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WORLDS_ENV, str(root / "worlds"))
        yield root / "backtest-tiny.yaml", root / "record.yaml"


@pytest.fixture(scope="module")
def backtest(setup: tuple[Path, Path]) -> Backtest:
    scenario, record = setup
    [result] = run_backtests(load_record(record), [str(scenario)])
    return result


def _cli(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def test_the_backtest_runs_on_its_world_over_its_years(backtest: Backtest) -> None:
    assert (backtest.scenario, backtest.world, backtest.years) == (
        "backtest-tiny", TEST_WORLD, (2010, 2011))
    assert backtest.missing == ("mining_outside_china", "price_Dy_china")


def test_each_year_sets_the_model_beside_the_record(
    setup: tuple[Path, Path], backtest: Backtest
) -> None:
    inputs = prepare_run(setup[0])
    result = run_parsed_scenario(inputs.scenario, inputs.world, inputs.years).result
    comparison = backtest.comparison("price_NdPr_outside_china")
    assert comparison is not None
    model = model_series(result, comparison.series, inputs.world)
    assert [row.year for row in comparison.rows] == [2009, 2010, 2011]
    context, first, second = comparison.rows
    assert (context.record, context.model, context.error) == (20.0, None, None)
    assert first.model == pytest.approx(model[2010]) and first.record == 40.0
    assert first.error == pytest.approx(model[2010] - 40.0)
    assert second.error_share == pytest.approx((model[2011] - 200.0) / 200.0)
    assert comparison.mean_abs_error_share == pytest.approx(
        (abs(first.error_share or 0) + abs(second.error_share or 0)) / 2)
    exports = backtest.comparison("exports_china")
    assert exports is not None and [row.record for row in exports.rows] == [30000.0, None]
    china = float(result["trade"].sel(exporter="CHN", product=["oxide", "metal"], year=2010)
                  .drop_sel(importer="CHN").sum())
    assert exports.rows[0].model == pytest.approx(china)


def test_movement_is_measured_from_the_year_before_the_run() -> None:
    movement = Movement.of({2009: 20.0, 2011: 200.0, 2012: 100.0}, 2010)
    assert movement is not None
    assert (movement.start_year, movement.peak_year, movement.peak_multiple,
            movement.end_multiple) == (2009, 2011, 10.0, 5.0)


def test_the_page_has_a_table_and_a_chart_per_series(
    tmp_path: Path, backtest: Backtest
) -> None:
    written = write_docs(tmp_path, [backtest], "The model misses 2011 because of a test.")
    text = (tmp_path / "validation.md").read_text(encoding="utf-8")
    assert "## backtest-tiny (world t2010, 2010–2011)" in text
    assert "![NdPr oxide price outside China](validation-price_NdPr_outside_china.svg)" in text
    assert "| 2011 | 200 |" in text and "a test publication, table 1" in text
    assert "## What the backtest shows" in text and "misses 2011" in text
    assert "`mining_outside_china`" in text  # no record in the run's years
    assert "Two tiers" in text
    charts = sorted(path.name for path in written[1:])
    assert charts == ["validation-exports_china.svg", "validation-price_NdPr_china.svg",
                      "validation-price_NdPr_outside_china.svg"]
    assert (tmp_path / charts[0]).read_text().startswith("<svg")
    page = html_page(blocks([backtest], "The model **misses** 2011.\n\n<script>x</script>"))
    assert page.count("<svg") == 3 and "<script" not in page
    assert "<strong>misses</strong>" in page
    assert markdown(blocks([backtest])) == markdown(blocks([backtest]))  # deterministic


def test_cli_validate_prints_record_model_and_errors(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    scenario, record = setup
    out = tmp_path / "validation.html"
    result = _cli("validate", "--scenario", str(scenario), "--record", str(record),
                  "--out", str(out), "--docs", str(tmp_path / "docs"))
    assert result.exit_code == 0, result.output
    for text in ("backtest-tiny", "price_NdPr_outside_china", "model − record", "200"):
        assert text in result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "docs" / "validation.md").is_file()


def test_cli_validate_quick_json(setup: tuple[Path, Path]) -> None:
    scenario, record = setup
    result = _cli("validate", "--quick", "--json", "--scenario", str(scenario),
                  "--record", str(record))
    assert result.exit_code == 0, result.output
    assert '"world": "t2010"' in result.output


def test_validate_runs_the_bundled_backtests() -> None:
    """What CI runs: every bundled backtest against the bundled record."""
    result = _cli("validate", "--quick")
    assert result.exit_code == 0, result.output
    for name in backtest_names():
        assert name in result.output
    if not backtest_names():
        assert "No backtest scenario is bundled." in result.output


# --- the record's schema -----------------------------------------------------------------------


def _record(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "record.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_point_in_another_unit_is_refused_at_its_line(tmp_path: Path) -> None:
    text = RECORD.replace("value: 30000.0, unit: t REO", "value: 30.0, unit: kt REO")
    with pytest.raises(DataError, match="unit 'kt REO' differs") as caught:
        load_record(_record(tmp_path, text))
    line = text.splitlines()[caught.value.line - 1]  # type: ignore[operator]
    assert "kt REO" in line


def test_a_point_of_an_unknown_series_is_refused(tmp_path: Path) -> None:
    text = RECORD + "  - {series: exports_chna, year: 2010, value: 1.0, unit: t REO, " \
                    "assumption: x}\n"
    with pytest.raises(DataError, match="unknown series 'exports_chna'") as caught:
        load_record(_record(tmp_path, text))
    assert caught.value.suggestion == "exports_china"


def test_a_point_needs_a_source(tmp_path: Path) -> None:
    text = RECORD.replace('assumption: "before"', 'note: "no source"')
    with pytest.raises(DataError, match="source"):
        load_record(_record(tmp_path, text))


def test_prices_are_not_summed(tmp_path: Path) -> None:
    text = RECORD.replace("    aggregation: market_price\n  - id: price_NdPr_china",
                          "    aggregation: sum\n  - id: price_NdPr_china")
    with pytest.raises(DataError, match="market_price"):
        load_record(_record(tmp_path, text))


def test_a_point_must_describe_its_series(tmp_path: Path) -> None:
    text = RECORD.replace("element: NdPr, market: outside_china", "element: Dy")
    with pytest.raises(DataError, match="element 'Dy' differs"):
        load_record(_record(tmp_path, text))


def test_a_selection_the_results_lack_is_named(
    setup: tuple[Path, Path], backtest: Backtest, tmp_path: Path
) -> None:
    text = RECORD.replace("select: {stage: mining, region: outside_china}",
                          "select: {stage: minig, region: outside_china}")
    record = load_record(_record(tmp_path, text))
    series = next(s for s in record.series if s.id == "mining_outside_china")
    inputs = prepare_run(setup[0], years=[2010])
    result = run_parsed_scenario(inputs.scenario, inputs.world, inputs.years).result
    with pytest.raises(DataError, match="no stage 'minig'") as caught:
        model_series(result, series, load_world(vintage=TEST_WORLD))
    assert caught.value.suggestion == "mining"


def test_the_page_prints_no_sign_on_a_value_that_rounds_to_zero() -> None:
    assert [number(v) for v in (-1e-9, 1e-9, -0.004, -0.006, -12.04, -150.2)] == [
        "0.00", "0.00", "0.00", "-0.01", "-12.0", "-150"]
    assert [percent(v) for v in (-1e-9, 0.0, -0.004, -0.006, 0.25)] == [
        "+0%", "+0%", "+0%", "-1%", "+25%"]
