"""Grouped sums over a grouping worked out once, giving exactly pandas' ``groupby`` floats.

The simulator's small per-year tables (demand, end-of-life scrap) were built with a pandas
merge and a ``groupby`` over string keys every year: milliseconds for a few hundred rows, almost
all of it spent finding the groups. The groups depend only on the world, so they are found once
(with pandas, keeping its sorted key order and dtypes) and each year sums values per integer
group code. The sum itself is still pandas' (a ``Series.groupby`` on the codes), which adds the
rows of each group in the same order with the same kernel as the string-keyed ``groupby``, so the
floats are bit-for-bit the same (a plain ``np.bincount`` would not be: pandas compensates
rounding errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The sum per group of ``values`` (one per row)."""
        values = np.asarray(values, dtype=float)
        kept = values if self._all_rows else values[self._rows]
        sums = pd.Series(kept).groupby(self._codes, sort=True).sum()
        if len(sums) == self.n_groups:
            result: np.ndarray = sums.to_numpy(dtype=float)
            return result
        out = np.zeros(self.n_groups)
        out[sums.index.to_numpy(dtype=np.intp)] = sums.to_numpy(dtype=float)
        return out
