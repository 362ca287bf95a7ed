"""Grouped sums over a grouping worked out once, giving exactly pandas' ``groupby`` floats.

A pandas ``groupby`` over string keys spends almost all its time finding the groups, and the
groups of the simulator's small per-year tables (demand, end-of-life scrap) depend only on the
world, so they are found once (with pandas, keeping its sorted key order and dtypes) and each
year sums values per integer group code.

The sums must be bit-for-bit pandas' (a plain ``np.bincount`` would not be), so
:class:`GroupSum` does in numpy what pandas (3.x) does for a float ``groupby(...).sum()``:

* when the rows' group codes are already sorted and no value is NaN, pandas (3.x; 2.x does not)
  adds each group's run of rows with ``np.add.reduceat`` — done here with the same call;
* otherwise its Cython kernel adds each group's rows in row order with Kahan compensation
  (skipping NaN, resetting a NaN compensation to 0) — done here one "rank" at a time: the first
  row of every group, then the second, and so on, so that each group sees its rows in the same
  order with the same floating-point operations.

``GroupSum.reference`` keeps the pandas call itself; tests check both agree.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

Table = TypeVar("Table", pd.DataFrame, pd.Series)


class GroupSum:
    """Per-group sums of one value per row, for fixed group codes.

    ``codes`` gives each row's group, 0 … ``n_groups`` − 1 in output order (e.g. the ``ngroup()``
    of a sorted ``groupby``), or −1 for a row the ``groupby`` drops (a missing key). NaN values
    are skipped and a group without values sums to 0, as ``groupby(...).sum()`` does.
    """

    def __init__(self, codes: np.ndarray, n_groups: int) -> None:
        codes = np.asarray(codes, dtype=np.intp)
        self.n_groups = n_groups
        self._rows = np.flatnonzero(codes >= 0)
        self._codes = codes[self._rows]
        self._all_rows = len(self._rows) == len(codes)
        kept = self._codes
        # pandas asks whether all row codes, dropped rows' −1 included, are non-decreasing.
        self._sorted = bool(np.all(codes[1:] >= codes[:-1]))
        # Runs of equal codes, for the sorted (reduceat) path.
        self._starts = np.flatnonzero(np.r_[True, kept[1:] != kept[:-1]]) if kept.size else kept
        self._run_groups = kept[self._starts]
        self._ranks = _rank_steps(kept)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The sum per group of ``values`` (one per row)."""
        values = np.asarray(values, dtype=float)
        kept = values if self._all_rows else values[self._rows]
        if not kept.size:
            return np.zeros(self.n_groups)
        # pandas looks for NaN among all values, the dropped rows' included.
        if self._sorted and _SORTED_BY_REDUCEAT and not np.isnan(values).any():
            out = np.zeros(self.n_groups)
            with np.errstate(invalid="ignore"):  # inf − inf: NaN, as pandas gives
                out[self._run_groups] = np.add.reduceat(kept, self._starts)
            return out
        return self._kahan(kept)

    def _kahan(self, kept: np.ndarray) -> np.ndarray:
        """Pandas' compensated ``group_sum``, vectorised over groups (see the module doc)."""
        total = np.zeros(self.n_groups)
        compensation = np.zeros(self.n_groups)
        missing = bool(np.isnan(kept).any())
        with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: NaN, as in the kernel
            for rows, groups in self._ranks:
                value = kept[rows]
                if missing:  # NaN rows are skipped
                    present = ~np.isnan(value)
                    value, groups = value[present], groups[present]
                before = total[groups]
                y = value - compensation[groups]
                t = before + y
                c = (t - before) - y
                np.copyto(c, 0.0, where=np.isnan(c))  # the kernel's reset after an infinity
                compensation[groups] = c
                total[groups] = t
        return total

    def reference(self, values: np.ndarray) -> np.ndarray:
        """The same sums computed by pandas, for tests.

        A ``Series.groupby`` on the codes, the dropped rows' key missing (as a missing string
        key is): pandas then sees the same group ids, in row order, as the keyed ``groupby``.
        """
        values = np.asarray(values, dtype=float)
        codes = np.full(len(values), -1, dtype=np.intp)
        codes[self._rows] = self._codes
        keys = pd.Series(pd.array(codes, dtype="Int64"))
        keys[codes < 0] = pd.NA
        sums = pd.Series(values).groupby(keys, sort=True).sum()
        out = np.zeros(self.n_groups)
        out[sums.index.to_numpy(dtype=np.intp)] = sums.to_numpy(dtype=float)
        return out


def _rank_steps(codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, their groups) of the k-th row of every group, for k = 0, 1, …, in row order."""
    if not codes.size:
        return []
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    rank = np.arange(len(grouped)) - np.searchsorted(grouped, grouped, side="left")
    steps = []
    for k in range(int(rank.max()) + 1):
        at = rank == k
        steps.append((order[at], grouped[at]))
    return steps


def fresh_copy(frame: Table) -> Table:
    """A copy of ``frame`` that changes to neither affect: shallow where pandas copies on write.

    pandas ≥ 3 always copies on write, so a shallow copy costs no data copy and stays
    independent; before that, only a deep copy does.
    """
    return frame.copy(deep=not _COPY_ON_WRITE)


def _pandas_sums_sorted_runs_with_reduceat() -> bool:
    """Whether pandas sums groups whose rows come sorted with ``np.add.reduceat`` (pandas ≥ 3).

    Decided on a sum where that and the compensated kernel give different floats.
    """
    values = np.array([1.0, -729.0, -1.4361214956266374e16])
    total = pd.Series(values).groupby(np.zeros(len(values), dtype=np.intp)).sum().iloc[0]
    return bool(total == np.add.reduceat(values, [0])[0])


_SORTED_BY_REDUCEAT = _pandas_sums_sorted_runs_with_reduceat()
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
