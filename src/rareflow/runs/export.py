"""A stored run as one tidy long table, for spreadsheets, pandas, R and DuckDB.

``rareflow export`` writes through :func:`export_run`. One row per cell of every variable,
zeros included (the run store leaves zero cells out of its files; here every cell of each
variable's coordinates is present), with the columns

``run_id, scenario, [draw,] variable, units, <one column per dimension>, value``

``draw`` appears for ensembles only. The dimension columns are the union over the variables
(:func:`dimension_columns`): ``year, region, stage, element, origin`` first, then the other
dimensions in the result contract's order; a variable leaves the columns of dimensions it does
not have empty. ``instrument_type`` follows ``instrument`` (each policy's type). The mean of a
variable's ``value`` over its rows is therefore the mean of the dense xarray variable. A NaN
cell (a price at a stage without a market) is written as a missing value (null in Parquet, an
empty field in CSV and xlsx), so readers skip it in means as xarray and pandas skip NaN.

Formats: CSV (UTF-8, empty field for a missing value), Parquet (zstd) and xlsx (one sheet,
``export``; at most :data:`XLSX_MAX_ROWS` rows, so a long run or an ensemble needs
``--variable``). Tables are written variable by variable, so an ensemble is never held in
memory as a whole, and into a temporary file renamed at the end: a failed export leaves no
partial file.
"""

from __future__ import annotations

import difflib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xarray as xr

from rareflow.model.results_contract import RESULT_COORDINATES
from rareflow.store.codec import DRAW_COLUMN, VALUE_COLUMN
from rareflow.store.runs import RunInfo
from rareflow.store.store import RunStore

ExportFormat = Literal["csv", "parquet", "xlsx"]

#: The formats :func:`export_run` writes.
FORMATS: Final[tuple[str, ...]] = get_args(ExportFormat)

#: File suffixes that name a format when ``--format`` is not given.
SUFFIXES: Final[dict[str, ExportFormat]] = {
    ".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx",
}

#: Data rows an xlsx sheet holds (Excel's 1,048,576 rows less the header).
XLSX_MAX_ROWS: Final[int] = 1_048_575

#: The identity columns before the dimensions (``draw`` only for ensembles).
LEADING: Final[tuple[str, ...]] = ("run_id", "scenario", DRAW_COLUMN, "variable", "units")

#: Dimensions that come first, in this order; the others follow in the contract's order.
FIRST_DIMS: Final[tuple[str, ...]] = ("year", "region", "stage", "element", "origin")

#: Non-dimension coordinates written as a column right after their dimension.
LABEL_COORDS: Final[dict[str, str]] = {"instrument": "instrument_type"}


class ExportError(Exception):
    """The export cannot be made as asked (the message says why and what would work)."""


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_run` wrote."""

    path: Path
    format: ExportFormat
    run_id: str
    draws: tuple[int, ...]
    variables: tuple[str, ...]
    rows: int


def closest(word: str, choices: Sequence[str]) -> str:
    """``; did you mean 'x'?`` for the choice closest to ``word``, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.4)
    return f"; did you mean {close[0]!r}?" if close else ""


def pick_format(format_name: str | None, path: Path) -> ExportFormat:
    """The format asked for, else the one ``path``'s suffix names; ExportError for neither."""
    known = ", ".join(FORMATS)
    if format_name is None:
        by_suffix = SUFFIXES.get(path.suffix.lower())
        if by_suffix is None:
            raise ExportError(f"cannot tell the format from {path.name!r}; give --format "
                              f"({known}) or a file name ending in .csv, .parquet or .xlsx")
        return by_suffix
    name = format_name.lower()
    if name not in FORMATS:
        raise ExportError(f"unknown format {format_name!r}{closest(name, FORMATS)} "
                          f"(formats: {known})")
    return name  # type: ignore[return-value]  # checked against FORMATS just above


def check_target(path: Path, *, overwrite: bool) -> None:
    """Raise ExportError now, before any reading, if ``path`` cannot be written."""
    if path.is_dir():
        raise ExportError(f"--out {path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} exists; give --force to overwrite it")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ExportError(f"cannot write --out {path}: its folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write --out {path}: its folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write --out {path}: the file is read-only")


def pick_draws(store: RunStore, run: RunInfo, draw: int | None) -> list[int]:
    """The draws to export: the single run's one, ``draw``, or every done draw of an ensemble."""
    if run.kind == "single":
        if draw is not None:
            raise ExportError(f"run {run.run_id} is a single run with one result; --draw "
                              "applies to ensembles only")
        return [0]
    done = sorted(store.completed_draws(run.run_id))
    if draw is None:
        if not done:
            raise ExportError(f"ensemble run {run.run_id} has no completed draws yet")
        return done
    if not 0 <= draw < run.n_draws:
        raise ExportError(f"draw {draw} is out of range for run {run.run_id}: it has "
                          f"{run.n_draws} draws, 0–{run.n_draws - 1}")
    if draw not in done:
        failed = store.draw_errors(run.run_id).get(draw)
        why = f"failed: {failed.strip().splitlines()[-1]}" if failed else "is not done yet"
        raise ExportError(f"draw {draw} of run {run.run_id} {why}; done draws: "
                          f"{_ranges(done) or 'none'}")
    return [draw]


def _ranges(numbers: Sequence[int]) -> str:
    """``0–3, 5, 7–8`` for ``[0, 1, 2, 3, 5, 7, 8]`` (increasing numbers)."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def pick_variables(available: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """``wanted`` (all of ``available`` when empty), in the run's order; ExportError if unknown."""
    for name in wanted:
        if name not in available:
            raise ExportError(f"run has no variable {name!r}{closest(name, available)} "
                              f"(variables: {', '.join(available)})")
    return [name for name in available if not wanted or name in wanted]


def dimension_columns(sample: xr.Dataset, variables: Sequence[str]) -> list[str]:
    """Dimension columns of the table: :data:`FIRST_DIMS`, then the rest in contract order.

    Only dimensions some variable in ``variables`` has; a dimension the contract does not
    know comes last, and an instrument dimension is followed by its ``instrument_type``.
    """
    used = {str(dim) for name in variables for dim in sample[name].dims}
    order = [*FIRST_DIMS, *(c.name for c in RESULT_COORDINATES if c.dims == (c.name,))]
    order += sorted(used - set(order))
    columns: list[str] = []
    for dim in (d for d in dict.fromkeys(order) if d in used):
        columns.append(dim)
        label = LABEL_COORDS.get(dim)
        if label is not None and label in sample.coords and sample[label].dims == (dim,):
            columns.append(label)
    return columns


def _column_type(sample: xr.Dataset, column: str) -> pa.DataType:
    if column not in sample.coords:  # a dimension without labels: positions
        return pa.int64()
    kind = np.asarray(sample[column].values).dtype.kind
    return pa.int64() if kind in "iub" else pa.float64() if kind == "f" else pa.string()


def table_schema(sample: xr.Dataset, dims: Sequence[str], ensemble: bool) -> pa.Schema:
    """The schema of the exported table (see the module docstring)."""
    fields = [pa.field("run_id", pa.string()), pa.field("scenario", pa.string())]
    if ensemble:
        fields.append(pa.field(DRAW_COLUMN, pa.int64()))
    fields += [pa.field("variable", pa.string()), pa.field("units", pa.string())]
    fields += [pa.field(dim, _column_type(sample, dim)) for dim in dims]
    fields.append(pa.field(VALUE_COLUMN, pa.float64()))
    return pa.schema(fields)


def variable_table(
    store: RunStore, run: RunInfo, name: str, draws: Sequence[int], sample: xr.Dataset,
    schema: pa.Schema,
) -> pa.Table:
    """Every cell of variable ``name`` in ``draws`` as rows of ``schema`` (zeros included)."""
    cells = store.variable_table(run.run_id, name, draws=draws)
    rows = cells.num_rows
    constants = {"run_id": run.run_id, "scenario": run.scenario_name, "variable": name,
                 "units": str(sample[name].attrs.get("units", ""))}
    columns: list[pa.Array | pa.ChunkedArray] = []
    for field in schema:
        column = field.name
        if column in constants:
            columns.append(pa.repeat(pa.scalar(constants[column], field.type), rows))
        elif column == VALUE_COLUMN:
            values = cells.column(column).cast(field.type)
            columns.append(pc.if_else(pc.is_nan(values), pa.scalar(None, field.type), values))
        elif column in cells.column_names:
            columns.append(_plain(cells.column(column)).cast(field.type))
        elif column in sample.coords and str(sample[column].dims[0]) in cells.column_names:
            columns.append(_labels_of(cells, sample, column).cast(field.type))
        else:
            columns.append(pa.nulls(rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column with dictionary-encoded chunks decoded (labels as themselves)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _labels_of(cells: pa.Table, sample: xr.Dataset, coord: str) -> pa.ChunkedArray:
    """A non-dimension coordinate (``instrument_type``) at each row, from its dimension."""
    dim = str(sample[coord].dims[0])
    keys = pa.array(np.asarray(sample[dim].values))
    labels = pa.array(np.asarray(sample[coord].values))
    position = pc.index_in(_plain(cells.column(dim)), value_set=keys.cast(
        _plain(cells.column(dim)).type))
    return pa.chunked_array([labels.take(position.combine_chunks())])


def export_run(
    store: RunStore,
    run_id: str,
    path: Path,
    format_name: ExportFormat,
    *,
    draw: int | None = None,
    variables: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> ExportSummary:
    """Write run ``run_id`` of ``store`` to ``path`` as a tidy long table (module docstring).

    ``draw``: one draw of an ensemble (an ensemble without it exports every done draw, with a
    ``draw`` column); ``variables``: only these (default all). Raises :class:`ExportError`
    for a draw or variable the run does not have, or an xlsx sheet over Excel's row limit;
    the store's own errors (unknown run, damaged files) pass through.
    """
    run = store.get_run(run_id)
    draws = pick_draws(store, run, draw)
    sample = store.load_result(run.run_id, draws[0])
    names = pick_variables([str(name) for name in sample.data_vars], variables)
    ensemble = run.kind != "single"
    schema = table_schema(sample, dimension_columns(sample, names), ensemble)
    if format_name == "xlsx":
        _check_xlsx_rows(sample, names, len(draws))

    def tables() -> Iterator[pa.Table]:
        for name in names:
            if progress is not None:
                progress(name)
            yield variable_table(store, run, name, draws, sample, schema)

    rows = _write_atomically(path, format_name, schema, tables())
    return ExportSummary(path, format_name, run.run_id, tuple(draws), tuple(names), rows)


def _check_xlsx_rows(sample: xr.Dataset, names: Sequence[str], n_draws: int) -> None:
    rows = n_draws * sum(int(sample[name].size) for name in names)
    if rows > XLSX_MAX_ROWS:
        biggest = sorted(names, key=lambda name: -int(sample[name].size))[:3]
        raise ExportError(
            f"the export has {rows:,} rows, more than an xlsx sheet holds "
            f"({XLSX_MAX_ROWS:,}); write csv or parquet, or pick variables with --variable "
            f"(largest: {', '.join(biggest)})")


def _write_atomically(
    path: Path, format_name: ExportFormat, schema: pa.Schema, tables: Iterator[pa.Table]
) -> int:
    """Write the tables into a temporary file next to ``path``, then rename it onto ``path``."""
    temp = path.resolve().parent / f".{path.name}.{uuid.uuid4().hex}.part"
    try:
        rows = _WRITERS[format_name](temp, schema, tables)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return rows


def _write_csv(path: Path, schema: pa.Schema, tables: Iterator[pa.Table]) -> int:
    rows = 0
    with pacsv.CSVWriter(str(path), schema) as writer:
        for table in tables:
            writer.write_table(table)
            rows += table.num_rows
    return rows


def _write_parquet(path: Path, schema: pa.Schema, tables: Iterator[pa.Table]) -> int:
    rows = 0
    text = [field.name for field in schema if pa.types.is_string(field.type)]
    with pq.ParquetWriter(str(path), schema, compression="zstd",
                          use_dictionary=text) as writer:
        for table in tables:
            writer.write_table(table)
            rows += table.num_rows
    return rows


def _write_xlsx(path: Path, schema: pa.Schema, tables: Iterator[pa.Table]) -> int:
    from openpyxl import Workbook  # imported here: only xlsx exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append(schema.names)
    rows = 0
    for table in tables:
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        for row in zip(*columns, strict=True):
            sheet.append(row)
        rows += table.num_rows
    book.save(path)
    return rows


_WRITERS: Final[dict[str, Callable[[Path, pa.Schema, Iterator[pa.Table]], int]]] = {
    "csv": _write_csv, "parquet": _write_parquet, "xlsx": _write_xlsx,
}
