"""Backtests: run the bundled ``backtest-*`` scenarios and set the model beside the record.

Each bundled scenario whose name starts with ``backtest-`` runs on its own world over its own
years; every series of the historical record (``rareflow/data/history/record.yaml``) is read
from the result (:func:`model_series`) and compared year by year with the observed points. This
is what ``rareflow validate`` prints and what ``docs/validation.md`` shows
(:mod:`rareflow.runs.validation_page`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from rareflow.data.history import load_record
from rareflow.metrics import prices
from rareflow.model.errors import DataError, closest_name
from rareflow.model.history import (
    CHINA,
    OUTSIDE_CHINA,
    REGION_DIMS,
    HistoricalRecord,
    RecordPoint,
    Series,
)
from rareflow.model.world import World
from rareflow.runs.runner import prepare_run, run_parsed_scenario
from rareflow.scenario import bundled_names

#: Bundled scenarios whose names start with this are backtests.
BACKTEST_PREFIX = "backtest-"


def backtest_names() -> list[str]:
    """Names of the bundled backtest scenarios, sorted."""
    return [name for name in bundled_names() if name.startswith(BACKTEST_PREFIX)]


@dataclass(frozen=True)
class YearRow:
    """One year of one series: the record, the model, and their difference."""

    year: int
    record: float | None
    model: float | None
    point: RecordPoint | None = None

    @property
    def error(self) -> float | None:
        """Model minus record (None when either is missing)."""
        if self.record is None or self.model is None:
            return None
        return self.model - self.record

    @property
    def error_share(self) -> float | None:
        """Model minus record over record (None when either is missing or the record is 0)."""
        if self.error is None or not self.record:
            return None
        return self.error / self.record


@dataclass(frozen=True)
class SeriesComparison:
    """A series over a backtest's years, with the record's years before them as context."""

    series: Series
    rows: tuple[YearRow, ...]

    @property
    def compared(self) -> list[YearRow]:
        """Years with both a record and a model value."""
        return [row for row in self.rows if row.error is not None]

    @property
    def mean_abs_error_share(self) -> float | None:
        """Mean of |model − record| / record over the compared years (None if none)."""
        shares = [abs(row.error_share) for row in self.compared if row.error_share is not None]
        return sum(shares) / len(shares) if shares else None

    def path(self, which: str) -> dict[int, float]:
        """The ``record`` or ``model`` values by year (years with a value only)."""
        values = {row.year: getattr(row, which) for row in self.rows}
        return {year: float(value) for year, value in values.items() if value is not None}


@dataclass(frozen=True)
class Movement:
    """How a path moved over a backtest: its start, its peak and where it ended, as multiples."""

    start_year: int
    peak_year: int
    peak_multiple: float
    end_year: int
    end_multiple: float

    @classmethod
    def of(cls, path: dict[int, float], start_year: int) -> Movement | None:
        """The movement of ``path`` from its last year at or before ``start_year`` on.

        A record often has the year before a run starts (2009 for a run from 2010) and not
        the first run year; that year is then the base. None without a positive base.
        """
        before = [year for year in path if year <= start_year]
        if not before:
            return None
        start_year = max(before)
        start = path.get(start_year)
        later = {year: value for year, value in path.items() if year >= start_year}
        if not start or start <= 0 or len(later) < 2:
            return None
        peak_year = max(later, key=lambda year: later[year])
        end_year = max(later)
        return cls(start_year, peak_year, later[peak_year] / start, end_year,
                   later[end_year] / start)


@dataclass(frozen=True)
class Backtest:
    """One backtest scenario's run and its comparison with the record."""

    scenario: str
    description: str
    world: str
    years: tuple[int, ...]
    comparisons: tuple[SeriesComparison, ...]
    missing: tuple[str, ...]  # series without a record point in the run's years

    def comparison(self, series_id: str) -> SeriesComparison | None:
        """The comparison of one series, if the run covers it."""
        return next((c for c in self.comparisons if c.series.id == series_id), None)


def model_series(ds: xr.Dataset, series: Series, world: World) -> dict[int, float]:
    """The model's value of ``series`` in each year of result ``ds``.

    Raises :class:`DataError` when the series selects a dimension or value the result lacks.
    """
    if series.aggregation == "market_price":
        region = str(series.select["region"])
        stage, element = str(series.select["stage"]), str(series.select["element"])
        _check_values(ds["price"], series, "stage", [stage])
        _check_values(ds["price"], series, "element", [element])
        if region in (CHINA, OUTSIDE_CHINA):
            both = prices(ds, stage, element, china=world.china)
            market = "inside_china" if region == CHINA else "outside_china"
        else:
            _check_values(ds["price"], series, "region", [region])
            both = prices(ds, stage, element, china=world.china, region=region)
            market = "outside_china" if region != world.china else "inside_china"
        values = both.sel(market=market)
    else:
        values = ds[series.variable]
        for dim in series.select:
            if dim not in values.dims:
                raise DataError(f"{series.variable} has no dimension '{dim}' (it has "
                                f"{', '.join(map(str, values.dims))})", record=series.id,
                                field=f"select.{dim}",
                                suggestion=closest_name(dim, [str(d) for d in values.dims]))
            wanted = _resolve(series.values(dim), dim, world)
            _check_values(values, series, dim, wanted)
            values = values.sel({dim: wanted})
        values = values.sum([dim for dim in values.dims if dim != "year"])
    return {int(year): float(value) for year, value in
            zip(values["year"].values, values.values, strict=True) if math.isfinite(value)}


def _resolve(given: Sequence[str | int], dim: str, world: World) -> list[str | int]:
    """Selected values with ``china``/``outside_china``/groups expanded to region ids."""
    if dim not in REGION_DIMS:
        return list(given)
    regions: list[str | int] = []
    for value in given:
        if value == CHINA:
            regions.append(world.china)
        elif value == OUTSIDE_CHINA:
            regions += [region for region in world.region_ids if region != world.china]
        else:
            regions += world.group_members(str(value))
    return list(dict.fromkeys(regions))


def _check_values(data: xr.DataArray, series: Series, dim: str,
                  wanted: Sequence[str | int]) -> None:
    known = [value.item() if hasattr(value, "item") else value for value in data[dim].values]
    for value in wanted:
        if value not in known:
            raise DataError(f"results have no {dim} '{value}'", record=series.id,
                            field=f"select.{dim}",
                            suggestion=closest_name(str(value), [str(k) for k in known]))


def compare_run(ds: xr.Dataset, world: World, record: HistoricalRecord,
                years: Sequence[int]) -> tuple[list[SeriesComparison], list[str]]:
    """Every series of ``record`` with a point in ``years``, model beside record.

    Record points before the first run year are kept as context rows (no model value).
    Returns the comparisons and the ids of the series with no point in ``years``.
    """
    comparisons, missing = [], []
    first, last = min(years), max(years)
    for series in record.series:
        points = record.points_of(series.id)
        if not any(first <= year <= last for year in points):
            missing.append(series.id)
            continue
        model = model_series(ds, series, world)
        rows = [YearRow(year, float(point.value), None, point)
                for year, point in points.items() if year < first]
        for year in range(first, last + 1):
            point = points.get(year)
            rows.append(YearRow(year, float(point.value) if point else None, model.get(year),
                                point))
        comparisons.append(SeriesComparison(series, tuple(rows)))
    return comparisons, missing


def run_backtests(
    record: HistoricalRecord | None = None,
    names: Sequence[str] | None = None,
    *,
    record_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Backtest]:
    """Run the backtests ``names`` (default: every bundled one) and compare them with the record.

    ``record`` defaults to the bundled one (or the file ``record_path``).
    """
    todo = backtest_names() if names is None else list(names)
    if not todo:
        return []
    if record is None:
        record = load_record(record_path)
    backtests = []
    for name in todo:
        if progress is not None:
            progress(name)
        inputs = prepare_run(name)
        outcome = run_parsed_scenario(inputs.scenario, inputs.world, inputs.years)
        comparisons, missing = compare_run(outcome.result, inputs.world, record, inputs.years)
        backtests.append(Backtest(inputs.scenario.name, inputs.scenario.description,
                                  inputs.world.vintage, tuple(inputs.years),
                                  tuple(comparisons), tuple(missing)))
    return backtests
