"""A thin, vectorised layer over highspy: labelled variable and constraint families.

Each family is a block of columns (or rows) indexed by a ``pandas.DataFrame`` of domain keys
(facility, region, element, ...). Coefficients are added family-to-family by joining key
columns, so a constraint family over every facility is one merge, never a Python loop per
facility. The matrix is passed to HiGHS once; afterwards only bounds, costs and right-hand sides
change, so HiGHS can warm-start from the previous basis.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
from scipy import sparse

INF = highspy.kHighsInf

_banner_lock = threading.Lock()
_banner_done = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance with its log off.

    The first ``highspy.Highs()`` of a process prints a licence banner from C++ straight to
    file descriptor 1, which would corrupt machine-readable output (``--json``); that one
    construction runs with descriptor 1 pointed at ``/dev/null``.
    """
    global _banner_done
    with _banner_lock:
        if _banner_done:
            highs: highspy.Highs = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as devnull:
                    os.dup2(devnull.fileno(), 1)
                    highs = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _banner_done = True
    highs.setOptionValue("output_flag", False)
    return highs


@dataclass(frozen=True)
class Family:
    """A block of LP columns or rows sharing one meaning, labelled by a key table."""

    name: str
    keys: pd.DataFrame
    start: int

    @property
    def size(self) -> int:
        """Number of columns (or rows) in the family."""
        return len(self.keys)

    @property
    def ids(self) -> np.ndarray:
        """Global column (or row) indices of the family, in key order."""
        return np.arange(self.start, self.start + self.size, dtype=np.int64)

    def labelled(self, id_column: str) -> pd.DataFrame:
        """The key table with the global indices added as ``id_column``."""
        table = self.keys.copy()
        table[id_column] = self.ids
        return table

    def describe(self, local_index: int) -> str:
        """A domain-terms label for one member, e.g. ``oxide_balance[region=USA, element=Dy]``."""
        row = self.keys.iloc[local_index]
        inner = ", ".join(f"{key}={value}" for key, value in row.items())
        return f"{self.name}[{inner}]"


@dataclass
class LinearProgram:
    """Column and row families plus the sparse matrix linking them; builds a ``highspy.Highs``."""

    columns: dict[str, Family] = field(default_factory=dict)
    rows: dict[str, Family] = field(default_factory=dict)
    _row_ids: list[np.ndarray] = field(default_factory=list)
    _col_ids: list[np.ndarray] = field(default_factory=list)
    _values: list[np.ndarray] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0
    _csc: sparse.csc_matrix | None = None
    _csr: sparse.csr_matrix | None = None

    def add_columns(self, name: str, keys: pd.DataFrame) -> Family:
        """Register a column family with one column per key row."""
        family = Family(name, keys.reset_index(drop=True), self.n_cols)
        self.columns[name] = family
        self.n_cols += family.size
        return family

    def add_rows(self, name: str, keys: pd.DataFrame) -> Family:
        """Register a row family with one row per key row."""
        family = Family(name, keys.drop_duplicates().reset_index(drop=True), self.n_rows)
        self.rows[name] = family
        self.n_rows += family.size
        return family

    def link(
        self,
        rows: Family,
        columns: Family | pd.DataFrame,
        on: Sequence[str] | dict[str, str],
        coefficient: float | str = 1.0,
    ) -> None:
        """Add coefficients where a row's keys match a column's keys.

        ``columns`` is a family or a table that already holds a ``col`` id column (e.g. a family
        joined with data, carrying a coefficient column). ``on`` lists shared key names, or maps
        row key names to column key names. ``coefficient`` is a constant or the name of a column
        of the joined table.
        """
        mapping = dict(on) if isinstance(on, dict) else {key: key for key in on}
        row_table = rows.labelled("row")[[*mapping, "row"]]
        col_table = columns.labelled("col") if isinstance(columns, Family) else columns
        renamed = col_table.rename(columns={v: k for k, v in mapping.items() if k != v})
        joined = row_table.merge(renamed, on=list(mapping), how="inner")
        if joined.empty:
            return
        if isinstance(coefficient, str):
            values = joined[coefficient].to_numpy(dtype=float)
        else:
            values = np.full(len(joined), float(coefficient))
        self.add_terms(joined["row"].to_numpy(), joined["col"].to_numpy(), values)

    def add_terms(self, row_ids: np.ndarray, col_ids: np.ndarray, values: np.ndarray) -> None:
        """Add raw coefficients (duplicates are summed)."""
        keep = values != 0
        self._csc = self._csr = None
        self._row_ids.append(np.asarray(row_ids, dtype=np.int64)[keep])
        self._col_ids.append(np.asarray(col_ids, dtype=np.int64)[keep])
        self._values.append(np.asarray(values, dtype=float)[keep])

    def matrix(self) -> sparse.csc_matrix:
        """The constraint matrix in compressed sparse column form (cached)."""
        if self._csc is None:
            self._csc = self._assemble()
        return self._csc

    def matrix_csr(self) -> sparse.csr_matrix:
        """The constraint matrix in compressed sparse row form (cached)."""
        if self._csr is None:
            self._csr = self.matrix().tocsr()
        return self._csr

    def _assemble(self) -> sparse.csc_matrix:
        rows = np.concatenate(self._row_ids) if self._row_ids else np.zeros(0, np.int64)
        cols = np.concatenate(self._col_ids) if self._col_ids else np.zeros(0, np.int64)
        vals = np.concatenate(self._values) if self._values else np.zeros(0)
        coo = sparse.coo_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        return coo.tocsc()

    def to_highs(self) -> highspy.Highs:
        """Build a HiGHS instance holding this LP (all bounds open, costs zero)."""
        matrix = self.matrix()
        model = highspy.HighsLp()
        model.num_col_ = self.n_cols
        model.num_row_ = self.n_rows
        model.col_cost_ = np.zeros(self.n_cols)
        model.col_lower_ = np.zeros(self.n_cols)
        model.col_upper_ = np.full(self.n_cols, INF)
        model.row_lower_ = np.zeros(self.n_rows)
        model.row_upper_ = np.zeros(self.n_rows)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        model.a_matrix_.index_ = matrix.indices.astype(np.int32)
        model.a_matrix_.value_ = matrix.data
        highs = new_highs()
        highs.passModel(model)
        return highs

    def describe_column(self, index: int) -> str:
        """Domain label of a global column index."""
        return _describe(self.columns, index)

    def describe_row(self, index: int) -> str:
        """Domain label of a global row index."""
        return _describe(self.rows, index)


def _describe(families: dict[str, Family], index: int) -> str:
    for family in families.values():
        if family.start <= index < family.start + family.size:
            return family.describe(index - family.start)
    raise IndexError(index)
