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
from typing import Any

import click
import pandas as pd
import xarray as xr
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rareflow.cli.jsonout import to_json
from rareflow.cli.options import parse_years, store_option
from rareflow.data.loader import load_world
from rareflow.metrics import compare, contract_problems, to_csv
from rareflow.metrics.compare import SECTIONS
from rareflow.model.errors import DataError
from rareflow.store.lookup import RunLookupError, find_run

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


def render(table: pd.DataFrame, a: LoadedRun, b: LoadedRun) -> Table:
    """The comparison as a rich table: one block per section, each metric's years together."""
    out = Table(title=Text(f"A = {a.scenario} ({a.name})\nB = {b.scenario} ({b.name})"),
                box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    out.add_column("metric", min_width=26, ratio=1)
    out.add_column("year", no_wrap=True)
    for column in ("A", "B", "B − A", "change"):
        out.add_column(column, justify="right", no_wrap=True)
    for section in SECTIONS:
        rows = table[table["section"] == section]
        if rows.empty:
            continue
        out.add_row(Text(section, style="bold cyan"))
        previous = None
        for row in rows.to_dict(orient="records"):
            unit, question = str(row["unit"]), str(row["question"])
            match = _PERIOD.search(question)
            stem = question[:match.start()] if match else question
            label = f"{stem} [{_SHORT_UNITS.get(unit, unit)}]"
            diff = float(row["difference"])
            out.add_row(
                Text(label if label != previous else ""),
                match.group(1) if match else "",
                _cell(float(row["value_a"]), unit),
                _cell(float(row["value_b"]), unit),
                _difference(diff, unit),
                _change(float(row["change_pct"])),
                style="dim" if diff == 0 or math.isnan(diff) else None,
            )
            previous = label
        out.add_section()
    return out


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
@click.option("--csv", "csv_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the rows as CSV to this file.")
@click.option("--json", "json_target", is_flag=False, flag_value="-", default=None,
              metavar="[FILE]",
              help="Write JSON to FILE; alone (put it last), print JSON instead of the table.")
def compare_command(
    run_a: str,
    run_b: str,
    store_dir: Path,
    years_text: str | None,
    draw: int | None,
    data_dir: Path | None,
    csv_file: Path | None,
    json_target: str | None,
) -> None:
    """Compare RUN_A and RUN_B (run ids, id prefixes or NetCDF files): B − A for key metrics."""
    err = Console(stderr=True)
    window = parse_years(years_text)
    try:
        a = load_run(run_a, store_dir, draw=draw)
        b = load_run(run_b, store_dir, draw=draw)
        years = shared_years(a, b, window)
        world = load_world(data_dir)
    except (CompareError, DataError) as error:
        err.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)
        raise SystemExit(2) from error
    table = compare(a.result.sel(year=years), b.result.sel(year=years), world, labels=LABELS)
    if csv_file is not None:
        to_csv(table, csv_file)
    doc = document(table, a, b, years)
    if json_target == "-":
        click.echo(to_json(doc, indent=2, ensure_ascii=False))
        return
    if json_target is not None:
        Path(json_target).write_text(to_json(doc, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    for note in doc["notes"]:
        err.print(Text.assemble(("note: ", "yellow"), note), soft_wrap=True)
    Console().print(render(table, a, b))
    sys.stdout.flush()
    for target in (csv_file, json_target):
        if target is not None:
            err.print(Text(f"wrote {target}"), soft_wrap=True)
