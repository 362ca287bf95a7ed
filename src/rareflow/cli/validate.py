"""``rareflow validate``: run the bundled backtests and print the model beside the record.

For each backtest (a bundled ``backtest-*`` scenario, on its own world) and each series of the
historical record: a table of record, model, model − record and the error in % per year.
``--docs DIR`` writes ``validation.md`` and its SVG charts there; ``--out FILE`` the same as one
HTML page; ``--quick`` prints the summaries only, without the year-by-year tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rareflow.cli.options import emit_json, json_options
from rareflow.cli.tables import fitted

if TYPE_CHECKING:  # the model is imported when the command runs (fast --help)
    from rareflow.runs.validation import Backtest
    from rareflow.runs.validation_page import Table as PageTable


@click.command("validate")
@click.option("--quick", is_flag=True,
              help="Print each backtest's summary only (no year-by-year tables).")
@click.option("--docs", "docs_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Write validation.md and its SVG charts into this folder.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the validation page as one HTML file.")
@click.option("--record", "record_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Historical record to compare with (default: the bundled one).")
@click.option("--scenario", "scenarios", multiple=True, metavar="SCENARIO",
              help="Backtest to run instead of the bundled ones (a name or YAML file; "
                   "repeatable).")
@json_options("the comparison")
def validate_command(quick: bool, docs_dir: Path | None, out_file: Path | None,
                     record_file: Path | None, scenarios: tuple[str, ...], as_json: bool,
                     json_out: Path | None) -> None:
    """Run every bundled backtest scenario and compare it with the historical record."""
    from rareflow.data.history import bundled_commentary
    from rareflow.runs.validation import run_backtests
    from rareflow.runs.validation_page import blocks, html_page, write_docs

    err = Console(stderr=True)
    if out_file is not None and not out_file.resolve().parent.is_dir():
        raise click.BadParameter(f"its folder {out_file.resolve().parent} does not exist",
                                 param_hint="'--out'")
    backtests = run_backtests(names=scenarios or None, record_path=record_file,
                              progress=lambda name: err.print(f"running {escape(name)} …",
                                                              highlight=False))
    if not emit_json([_as_json(bt) for bt in backtests], as_json=as_json, json_out=json_out):
        _print(Console(), backtests, quick=quick)
    commentary = bundled_commentary() if record_file is None else None
    if docs_dir is not None:
        written = write_docs(docs_dir, backtests, commentary)
        err.print(f"wrote {escape(str(written[0]))} and {len(written) - 1} chart(s)",
                  highlight=False)
    if out_file is not None:
        out_file.write_text(html_page(blocks(backtests, commentary)), encoding="utf-8")
        err.print(f"wrote {escape(str(out_file))}", highlight=False)


def _print(console: Console, backtests: list[Backtest], *, quick: bool) -> None:
    from rareflow.runs.validation_page import (
        SUMMARY_NOTE,
        series_table,
        summary_table,
        two_tier_table,
    )

    if not backtests:
        console.print("No backtest scenario is bundled.")
        return
    for backtest in backtests:
        console.print(f"[bold]{escape(backtest.scenario)}[/bold] on world {backtest.world}, "
                      f"{backtest.years[0]}–{backtest.years[-1]}: "
                      f"{escape(backtest.description)}", highlight=False)
        console.print(fitted(console, _rich(summary_table(backtest), "summary")))
        console.print(SUMMARY_NOTE, style="dim", highlight=False)
        tiers = two_tier_table(backtest)
        if tiers is not None:
            console.print(fitted(console, _rich(tiers, "two tiers: outside China against China")))
        if not quick:
            for comparison in backtest.comparisons:
                table = series_table(comparison)
                table = type(table)(table.header[:5], tuple(row[:5] for row in table.rows),
                                    table.align[:5])
                console.print(fitted(console, _rich(table, f"{comparison.series.title} "
                                                           f"({comparison.series.unit})")))
        if backtest.missing:
            console.print("no record in the run's years: " + ", ".join(backtest.missing))


def _rich(table: PageTable, title: str) -> Table:
    out = Table(title=escape(title), title_justify="left")
    align = table.align or "l" + "r" * (len(table.header) - 1)
    for index, (header, side) in enumerate(zip(table.header, align, strict=True)):
        out.add_column(escape(header), justify="right" if side == "r" else "left",
                       no_wrap=index == 0)  # series ids and years stay whole
    for row in table.rows:
        out.add_row(*(escape(cell) for cell in row))
    return out


def _as_json(backtest: Backtest) -> dict[str, object]:
    return {
        "scenario": backtest.scenario, "world": backtest.world, "years": list(backtest.years),
        "missing": list(backtest.missing),
        "series": [{
            "id": c.series.id, "unit": c.series.unit,
            "mean_abs_error_share": c.mean_abs_error_share,
            "years": [{"year": r.year, "record": r.record, "model": r.model, "error": r.error,
                       "error_share": r.error_share} for r in c.rows],
        } for c in backtest.comparisons],
    }
