"""One year's input tables, read once into lists and arrays, and matched to fixed LP keys.

The year inputs are small pandas tables (tens of rows). At that size each pandas call (a column
access, an indexer) costs more than all the arithmetic behind it, so ``MarketModel.set_year``
reads every column it needs exactly once (:class:`YearView`) and ``to_dataset`` reuses the same
view for the inputs it reports. :class:`KeyMatcher` finds the rows of a fixed list of LP keys in
a table, as a left merge would, and reuses its last answer while the table's keys are unchanged
(the usual case: the same regions, sectors and elements every year).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rareflow.engine.inputs import YearInputs

Key = tuple[object, ...]


class TableView:
    """Columns of one input table: key columns as lists, value columns as float arrays."""

    __slots__ = ("columns", "size", "values")

    def __init__(self, table: pd.DataFrame, keys: Sequence[str], values: Sequence[str]) -> None:
        self.size = len(table)
        position = {name: i for i, name in enumerate(column_list.labels(table.columns))}
        missing = [name for name in (*keys, *values) if name not in position]
        if missing:
            raise KeyError(f"year input table lacks column(s) {missing}")
        self.columns: dict[str, list[object]] = {
            name: column_list(table, position[name]) for name in keys
        }
        self.values: dict[str, np.ndarray] = {
            name: np.array(_column_array(table, position[name]), dtype=float) for name in values
        }

    def key_columns(self, names: Sequence[str]) -> list[list[object]]:
        """The key columns ``names``, in order (for :meth:`KeyMatcher.rows`)."""
        return [self.columns[name] for name in names]

    def take(self, value: str, rows: np.ndarray) -> np.ndarray:
        """Column ``value`` at row numbers ``rows``, NaN where a row is −1."""
        taken: np.ndarray = np.append(self.values[value], np.nan)[rows]
        return taken


class SeriesView:
    """A labelled input series (facility → t/y, sector → share) as a label list and values."""

    __slots__ = ("labels", "values")

    def __init__(self, series: pd.Series) -> None:
        self.labels: list[object] = column_list.labels(series.index)
        self.values: np.ndarray = series.to_numpy(dtype=float)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Values at positions ``rows``, NaN where a position is −1."""
        taken: np.ndarray = np.append(self.values, np.nan)[rows]
        return taken


@dataclass(frozen=True)
class YearView:
    """Every input table of one year, read once (see the module docstring)."""

    inputs: YearInputs
    capacity: SeriesView
    magnet_demand: TableView
    oxide_demand: TableView
    scrap: TableView
    stock: TableView
    substitution_available: SeriesView
    substitution_cost: SeriesView

    @classmethod
    def read(cls, inputs: YearInputs) -> YearView:
        """Read the columns of ``inputs`` that the market LP and the results use."""
        stock_values = ("level", "release_price", "fill_min", "fill_max")
        return cls(
            inputs=inputs,
            capacity=SeriesView(inputs.capacity),
            magnet_demand=TableView(inputs.magnet_demand, ("region", "sector"), ("quantity",)),
            oxide_demand=TableView(inputs.oxide_demand, ("region", "sector", "element"),
                                   ("quantity",)),
            scrap=TableView(inputs.scrap, ("region", "element", "origin"), ("t",)),
            stock=TableView(inputs.stock, ("region", "element", "origin"), stock_values),
            substitution_available=SeriesView(inputs.substitution_available),
            substitution_cost=SeriesView(inputs.substitution_cost),
        )


class KeyMatcher:
    """Row of each of a fixed list of keys in a year table (−1 where absent).

    Same result as a left merge of the keys with the table: a key found once gives its row, a
    missing key −1, and a table holding a key twice is rejected (a merge would duplicate rows).
    The table's key columns are given as lists; the last answer is reused while they compare
    equal, so an unchanged table costs a few list comparisons and no tuples.
    """

    def __init__(self, targets: Sequence[Hashable], what: str) -> None:
        self.targets = list(targets)
        self.what = what
        self._columns: list[list[object]] | None = None
        self._rows = np.full(len(self.targets), -1, dtype=np.int64)

    def rows(self, *columns: list[object]) -> np.ndarray:
        """Positions of every target key among the rows of ``columns`` (read-only; −1: absent).

        With one column the keys are its values; with several, tuples of them (row by row).
        """
        if self._columns is None or not same_columns(columns, self._columns):
            keys: list[Hashable] | list[Key]
            keys = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
            position = {key: i for i, key in enumerate(keys)}
            if len(position) < len(keys):
                raise ValueError(f"year input has duplicate {self.what} rows")
            rows = np.fromiter((position.get(key, -1) for key in self.targets), dtype=np.int64,
                               count=len(self.targets))
            rows.flags.writeable = False
            self._columns, self._rows = list(columns), rows
        return self._rows


def same_columns(columns: Sequence[list[object]], previous: list[list[object]]) -> bool:
    """Whether two lists of key columns are equal, column by column (cheap: no tuples)."""
    return len(columns) == len(previous) and all(
        new is old or new == old for new, old in zip(columns, previous, strict=True))


def _column_array(table: pd.DataFrame, position: int) -> object:
    """The array holding column ``position`` of ``table`` (no Series is built)."""
    get = getattr(table, "_get_column_array", None)  # pandas-internal; public path otherwise
    return get(position) if get is not None else table.iloc[:, position].array


class _ColumnLists:
    """Python lists of immutable (Arrow-backed) key columns, kept while their data is alive.

    Year tables are shallow copies of a few templates (:func:`~rareflow.engine.grouping.
    fresh_copy`), so their string key columns share one immutable Arrow array from year to year
    and from draw to draw. Converting such a column to Python strings costs ≈ 10 µs per row;
    the list is made once per Arrow array and reused. The arrays are held here, so an entry's
    identity cannot be taken by another object; the least recently used are dropped beyond
    :attr:`LIMIT`. Columns of other kinds (NumPy-backed, mutable) are converted every time.
    """

    LIMIT = 256

    def __init__(self) -> None:
        self._lists: OrderedDict[int, tuple[object, list[object]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, table: pd.DataFrame, position: int) -> list[object]:
        """Column ``position`` of ``table`` as a list."""
        return self.of(_column_array(table, position), lambda: table.iloc[:, position].tolist())

    def labels(self, index: pd.Index) -> list[object]:
        """The labels of ``index`` as a list."""
        return self.of(index.array, index.tolist)

    def of(self, array: object, convert: Callable[[], list[object]]) -> list[object]:
        """``convert()``, reused while ``array`` holds the same immutable Arrow data."""
        data = getattr(array, "_pa_array", None)
        if data is None or not isinstance(data, _ARROW_TYPES):
            return convert()
        key = id(data)
        cached = self._lists.get(key)
        if cached is not None and cached[0] is data:
            with self._lock:  # least recently used entries go first
                if key in self._lists:
                    self._lists.move_to_end(key)
            return cached[1]
        values = convert()
        with self._lock:
            while len(self._lists) >= self.LIMIT:
                self._lists.popitem(last=False)
            self._lists[key] = (data, values)
        return values


def _arrow_types() -> tuple[type, ...]:
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return ()
    return (pyarrow.ChunkedArray, pyarrow.Array)


_ARROW_TYPES = _arrow_types()

#: The key column of a year table as a Python list (shared: never modify the list).
column_list = _ColumnLists()
