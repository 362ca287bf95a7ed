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
    """A HiGHS instance with its log off, running on the calling thread alone.

    The first ``highspy.Highs()`` of a process prints a licence banner from C++ straight to
    file descriptor 1, which would corrupt machine-readable output (``--json``); that one
    construction runs with descriptor 1 pointed at ``/dev/null``.

    The market LPs are solved with the serial dual simplex, which gains nothing from HiGHS's
    worker threads; by default HiGHS still starts one per core, and they cost CPU time that an
    ensemble's other worker processes need (see :func:`_solver_threads`).
    """
    highs = _construct()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", _solver_threads())
    return highs


def _construct() -> highspy.Highs:
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
    return highs


_threads_lock = threading.Lock()
_threads: int | None = None


def _solver_threads() -> int:
    """1 where this process's HiGHS scheduler can run single-threaded, else 0 (automatic).

    HiGHS has one scheduler per process, sized by the first solve; a later solve asking for
    another number of threads fails. Decided once per process by solving an empty LP with one
    thread: that either sizes the scheduler to one thread or finds it already sized otherwise
    (by code outside rareflow), in which case HiGHS's own choice is kept.
    """
    global _threads
    with _threads_lock:
        if _threads is None:
            probe = _construct()
            probe.setOptionValue("output_flag", False)
            probe.setOptionValue("threads", 1)
            probe.addVar(0.0, 1.0)
            _threads = 1 if probe.run() == highspy.HighsStatus.kOk else 0
        return _threads


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
        col_table = columns.keys if isinstance(columns, Family) else columns
        at_row, at_col = inner_join([rows.keys[key] for key in mapping],
                                    [col_table[key] for key in mapping.values()])
        if not at_row.size:
            return
        col_ids = (columns.ids if isinstance(columns, Family)
                   else col_table["col"].to_numpy(dtype=np.int64))
        if isinstance(coefficient, str):
            values = col_table[coefficient].to_numpy(dtype=float)[at_col]
        else:
            values = np.full(at_row.size, float(coefficient))
        self.add_terms(rows.ids[at_row], col_ids[at_col], values)

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


def inner_join(left: Sequence[pd.Series],
               right: Sequence[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the pairs an inner merge of two tables on their key columns yields.

    ``left[k]`` and ``right[k]`` are the k-th key column of each table. The pairs come in the
    order of ``left.merge(right, how="inner")``: left rows in order, each with its matching
    right rows in order; missing keys match each other, as in a merge. The keys are coded as
    integers (``pd.factorize`` over both columns) and matched with a sort, instead of a merge
    building tables: the network declares ≈ 60 such joins.
    """
    n_left = len(left[0])
    left_key = np.zeros(n_left, dtype=np.int64)
    right_key = np.zeros(len(right[0]), dtype=np.int64)
    bound = 1  # left_key < bound
    for left_column, right_column in zip(left, right, strict=True):
        codes, uniques = pd.factorize(left_column, use_na_sentinel=False)
        found = pd.Index(uniques).get_indexer(right_column)  # −1: no left row has it
        if bound * len(uniques) >= 2**62:  # keep the combined codes within int64
            left_key, previous = pd.factorize(left_key)
            right_key = pd.Index(previous).get_indexer(pd.Index(right_key))
            bound = len(previous)
        right_key = np.where((right_key < 0) | (found < 0), -1, right_key * len(uniques) + found)
        left_key = left_key * len(uniques) + codes
        bound *= max(len(uniques), 1)
    order = np.argsort(right_key, kind="stable")
    ordered = right_key[order]
    start = np.searchsorted(ordered, left_key, side="left")
    count = np.searchsorted(ordered, left_key, side="right") - start
    at_left = np.repeat(np.arange(n_left, dtype=np.int64), count)
    first = np.repeat(start - (np.cumsum(count) - count), count)
    at_right = order[first + np.arange(at_left.size, dtype=np.int64)]
    return at_left, at_right.astype(np.int64)


def _describe(families: dict[str, Family], index: int) -> str:
    for family in families.values():
        if family.start <= index < family.start + family.size:
            return family.describe(index - family.start)
    raise IndexError(index)
