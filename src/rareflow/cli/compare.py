"""``rareflow compare``: two runs' key metrics side by side, as a table, CSV or JSON.

Each run is a run id (or unique id prefix) in the run store, or a NetCDF file written by
``rareflow run --out``. Both are cut to the years they share (and ``--years``) before the
metrics are computed, so self-sufficiency years and fiscal totals cover the same window.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rareflow.cli.options import (
    emit_json,
    json_options,
    parse_years,
    store_option,
    world_option,
)
from rareflow.cli.tables import fits

if TYPE_CHECKING:  # the heavy modules are imported when the command runs (fast --help)
    import pandas as pd
    import xarray as xr

LABELS = ("a", "b")


class CompareError(Exception):
    """A run cannot be found or read, or the two runs cannot be compared."""


@dataclass(frozen=True)
class LoadedRun:
    """One side of a comparison: its result and where it came from."""

    name: str
    scenario: str
    data_version: str
    code_version: str
    result: xr.Dataset

    @property
    def years(self) -> list[int]:
        """Years the result covers, ascending."""
        return sorted(int(year) for year in self.result["year"].values)

    def describe(self) -> dict[str, Any]:
        """JSON-ready identity of the run."""
        years = self.years
        return {"run": self.name, "scenario": self.scenario, "data_version": self.data_version,
                "code_version": self.code_version, "years": [years[0], years[-1]]}


def load_run(reference: str, store_dir: Path, *, draw: int | None = None) -> LoadedRun:
    """The run ``reference`` names: a NetCDF file if such a file exists, else a stored run id.

    Raises :class:`CompareError` with the closest stored ids when nothing matches.
    """
    from rareflow.metrics import contract_problems
    from rareflow.store.lookup import RunLookupError, find_run

    try:
        found = find_run(reference, store_dir, draw=draw, ensemble="ask")
    except RunLookupError as error:
        raise CompareError(str(error)) from error
    if found.info is None:
        missing = [p for p in contract_problems(found.result) if p.startswith("missing variable")]
        if missing:
            raise CompareError(f"{found.label} is not a rareflow result: {'; '.join(missing)}")
        attrs = found.result.attrs
        return LoadedRun(found.label, str(attrs.get("scenario", "?")),
                         str(attrs.get("data_version", "?")), str(attrs.get("code_version", "?")),
                         found.result)
    info = found.info
    return LoadedRun(found.label, info.scenario_name, info.data_version, info.code_version,
                     found.result)


def shared_years(a: LoadedRun, b: LoadedRun, window: list[int] | None) -> list[int]:
    """Years both runs have, within ``window`` when given; CompareError if there are none."""
    shared = sorted(set(a.years) & set(b.years) & (set(window) if window else set(a.years)))
    if not shared:
        where = f" in {window[0]}–{window[-1]}" if window else ""
        raise CompareError(f"the runs share no year{where}: {a.name} covers "
                           f"{_span(a.years)}, {b.name} covers {_span(b.years)}")
    return shared


def notes(a: LoadedRun, b: LoadedRun, years: list[int]) -> list[str]:
    """Warnings an analyst needs before reading the differences."""
    found = []
    if a.data_version != b.data_version:
        found.append(f"different data versions: A {a.data_version}, B {b.data_version}")
    if a.code_version != b.code_version:
        found.append(f"different code versions: A {a.code_version}, B {b.code_version}")
    if a.years != b.years:
        found.append(f"different year spans: A {_span(a.years)}, B {_span(b.years)}; "
                     f"compared over the shared {_span(years)}")
    return found


def _span(years: list[int]) -> str:
    return f"{years[0]}–{years[-1]}" if years[0] != years[-1] else str(years[0])


def _decimals(value: float, unit: str) -> int:
    """Decimals shown for a plain number: one for prices, months and small values."""
    return 1 if unit in {"USD/kg", "months"} or abs(value) < 100 else 0


def _cell(value: float, unit: str) -> str:
    if math.isnan(value):
        return "never" if unit == "year" else "–"
    if unit == "year":
        return f"{value:.0f}"
    if unit == "%":
        return f"{value:.1f} %"
    return f"{value:,.{_decimals(value, unit)}f}"


def _difference(value: float, unit: str) -> str:
    if math.isnan(value):
        return "–"
    if value == 0:
        return "0"
    if unit == "%":
        return f"{value:+.1f} pp"
    if unit == "year":
        return f"{value:+.0f} y"
    return f"{value:+,.{_decimals(value, unit)}f}"


def _change(percent: float) -> str:
    if math.isnan(percent):
        return ""
    return f"{percent:+.0f} %" if abs(percent) >= 10 else f"{percent:+.1f} %"


#: Short forms of units for the table (the CSV and JSON keep the full ones).
_SHORT_UNITS = {"t (magnet t or t REO)": "t", "HHI (0-10000)": "HHI", "USD million": "USD M"}
_PERIOD = re.compile(r"\s+(\d{4}(?:[–-]\d{4})?)$")


@dataclass(frozen=True)
class _Line:
    """One row of the comparison table: a metric (label) in one year or period."""

    section: str
    label: str
    period: str
    cells: tuple[str, str, str, str]
    same: bool


def _lines(table: pd.DataFrame) -> list[_Line]:
    from rareflow.metrics.compare import SECTIONS

    lines = []
    for section in SECTIONS:
        for row in table[table["section"] == section].to_dict(orient="records"):
            unit, question = str(row["unit"]), str(row["question"])
            match = _PERIOD.search(question)
            stem = question[:match.start()] if match else question
            diff = float(row["difference"])
            lines.append(_Line(
                section, f"{stem} [{_SHORT_UNITS.get(unit, unit)}]",
                match.group(1) if match else "",
                (_cell(float(row["value_a"]), unit), _cell(float(row["value_b"]), unit),
                 _difference(diff, unit), _change(float(row["change_pct"]))),
                diff == 0 or math.isnan(diff)))
    return lines


def _title(a: LoadedRun, b: LoadedRun) -> Text:
    return Text(f"A = {a.scenario} ({a.name})\nB = {b.scenario} ({b.name})")


def _wide(lines: list[_Line], a: LoadedRun, b: LoadedRun) -> Table:
    """One table: a metric column, its years beside it, then A, B, B − A and change."""
    out = Table(title=_title(a, b), box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    out.add_column("metric", min_width=26, ratio=1)
    out.add_column("year", no_wrap=True)
    for column in ("A", "B", "B − A", "change"):
        out.add_column(column, justify="right", no_wrap=True)
    section, previous = None, None
    for line in lines:
        if line.section != section:
            if section is not None:
                out.add_section()
            out.add_row(Text(line.section, style="bold cyan"))
            section = line.section
        out.add_row(Text(line.label if line.label != previous else ""), line.period,
                    *line.cells, style="dim" if line.same else None)
        previous = line.label
    return out


def _stacked(lines: list[_Line], a: LoadedRun, b: LoadedRun) -> Group:
    """The comparison for narrow terminals: each metric's label on a line of its own.

    Labels wrap on words; the years of a metric follow below, in columns aligned across the
    whole comparison.
    """
    headers = ("year", "A", "B", "B − A", "change")
    widths = [max(len(h), *(len(text) for text in column))
              for h, column in zip(headers, zip(*((ln.period, *ln.cells) for ln in lines),
                                                strict=True), strict=True)]

    def values(cells: tuple[str, ...], style: str | None = None) -> RenderableType:
        grid = Table.grid(padding=(0, 0, 0, 2), pad_edge=False)
        for index, width in enumerate(widths):  # a column's width includes its left padding
            grid.add_column(justify="right", no_wrap=True, width=width + (2 if index else 0))
        grid.add_row(*cells, style=style)
        return Padding(grid, (0, 0, 0, 2))

    parts: list[RenderableType] = [Text.assemble(_title(a, b), style="italic"),
                                   values(headers, "bold")]
    section, previous = None, None
    for line in lines:
        if line.section != section:
            parts += [Text(""), Text(line.section, style="bold cyan")]
            section = line.section
        if line.label != previous:
            parts.append(Text(line.label))
        parts.append(values((line.period, *line.cells), "dim" if line.same else None))
        previous = line.label
    return Group(*parts)


def render(table: pd.DataFrame, a: LoadedRun, b: LoadedRun,
           console: Console | None = None) -> RenderableType:
    """The comparison for ``console``: one table where it fits, else the stacked layout.

    The table has a block per section and each metric's years together; where it would cut
    cells (80 columns, piped output), each metric's label goes on its own line above its years.
    """
    lines = _lines(table)
    wide = _wide(lines, a, b)
    return wide if fits(console or Console(), wide) else _stacked(lines, a, b)


def document(table: pd.DataFrame, a: LoadedRun, b: LoadedRun, years: list[int]) -> dict[str, Any]:
    """The comparison as a JSON-ready object: both runs, the years, notes and the rows."""
    rows = json.loads(table.to_json(orient="records", force_ascii=False))
    return {"a": a.describe(), "b": b.describe(), "years": [years[0], years[-1]],
            "notes": notes(a, b, years), "rows": rows}


@click.command("compare")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@store_option
@click.option("--years", "years_text", default=None,
              help="START-END (or YEAR) window; default: every year both runs have.")
@click.option("--draw", type=click.IntRange(min=0), default=None,
              help="Draw to use from ensemble runs.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Directory of world-data overrides (for region groups).")
@world_option
@click.option("--csv", "csv_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the rows as CSV to this file.")
@json_options("the comparison")
def compare_command(
    run_a: str,
    run_b: str,
    store_dir: Path,
    years_text: str | None,
    draw: int | None,
    data_dir: Path | None,
    world: str | None,
    csv_file: Path | None,
    as_json: bool,
    json_out: Path | None,
) -> None:
    """Compare RUN_A and RUN_B (run ids, id prefixes or NetCDF files): B − A for key metrics."""
    from rareflow.data.loader import load_world
    from rareflow.metrics import compare, to_csv
    from rareflow.model.errors import DataError
    from rareflow.model.world import DEFAULT_WORLD

    err = Console(stderr=True)
    window = parse_years(years_text)
    try:
        a = load_run(run_a, store_dir, draw=draw)
        b = load_run(run_b, store_dir, draw=draw)
        years = shared_years(a, b, window)
        data = load_world(data_dir, vintage=world or DEFAULT_WORLD)
    except (CompareError, DataError) as error:
        err.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)
        raise SystemExit(2) from error
    table = compare(a.result.sel(year=years), b.result.sel(year=years), data, labels=LABELS)
    if csv_file is not None:
        to_csv(table, csv_file)
    doc = document(table, a, b, years)
    if emit_json(doc, as_json=as_json, json_out=json_out, ensure_ascii=False):
        return
    for note in doc["notes"]:
        err.print(Text.assemble(("note: ", "yellow"), note), soft_wrap=True)
    out = Console()
    out.print(render(table, a, b, out))
    sys.stdout.flush()
    for target in (csv_file, json_out):
        if target is not None:
            err.print(Text(f"wrote {target}"), soft_wrap=True)
