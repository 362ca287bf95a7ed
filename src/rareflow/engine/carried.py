"""The simulator's per-year bookkeeping between solves, in numpy over layouts worked out once.

What a year hands to the next — end-of-life scrap from the magnets in use, the magnets newly put
into use, the closing stockpile levels — used to go through pandas merges, groupbys and
``to_series`` round trips of the result arrays every year (≈ 15 ms a year on the bundled world,
more than the solve). The keys involved are fixed for a run, so their positions are found once
and a year is a gather, a multiplication and a grouped sum (:mod:`rareflow.engine.grouping`).
Each function here states the pandas operation it replaces; tests check both agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.grouping import GroupSum


class LabelPositions:
    """Positions of labels in a pandas index; the lookup table is kept while the index is."""

    def __init__(self) -> None:
        self._index: pd.Index | None = None
        self._positions: dict[object, int] = {}

    def __call__(self, index: pd.Index, labels: Sequence[object]) -> np.ndarray:
        """Position of each label in ``index`` (−1 where absent)."""
        if index is not self._index:  # pandas indexes are immutable: identity is enough
            self._positions = {label: i for i, label in enumerate(index.tolist())}
            self._index = index
        positions = self._positions
        return np.fromiter((positions.get(label, -1) for label in labels), dtype=np.intp,
                           count=len(labels))


class GridLookup:
    """Values of a 2-D ``DataArray`` at (label, label) pairs, NaN where a label is absent.

    Replaces ``array.to_series().reset_index()`` left-merged on the two dimensions.
    """

    def __init__(self, dims: tuple[str, str]) -> None:
        self.dims = dims
        self._positions = (LabelPositions(), LabelPositions())

    def __call__(self, array: xr.DataArray, first: Sequence[object],
                 second: Sequence[object]) -> np.ndarray:
        """``array`` at the pairs ``(first[i], second[i])``."""
        if array.dims != self.dims:
            array = array.transpose(*self.dims)
        indexes = array.indexes
        rows = self._positions[0](indexes[self.dims[0]], first)
        cols = self._positions[1](indexes[self.dims[1]], second)
        found = (rows >= 0) & (cols >= 0)
        values = np.full(len(rows), np.nan)
        values[found] = array.to_numpy()[rows[found], cols[found]]
        return values


class ScrapTable:
    """End-of-life scrap per (region, element, origin) from the outflow per (region, sector).

    Replaces, per year: ``keys.assign(t_magnet=outflow).merge(content, on="sector")``, ``t =
    t_magnet × content``, origin "china" where the region is China, and ``groupby(["region",
    "element", "origin"]).agg(t=("t", "sum"))``. The merge and the grouping are done once.
    """

    def __init__(self, keys: pd.DataFrame, content: pd.DataFrame, china: str) -> None:
        table = keys.assign(t_magnet=0.0, key_row=np.arange(len(keys))).merge(content,
                                                                               on="sector")
        table["t"] = table.t_magnet * table.content
        table["origin"] = np.where(table.region == china, "china", "other")
        grouped = table.groupby(["region", "element", "origin"], as_index=False)
        self.template = grouped.agg(t=("t", "sum"))
        self.key_row = table.key_row.to_numpy(dtype=np.intp)
        self.content = table.content.to_numpy(dtype=float)
        codes = grouped.ngroup().to_numpy(dtype=float)
        self.sum = GroupSum(np.where(np.isnan(codes), -1, codes).astype(np.intp),
                            len(self.template))

    def table(self, outflow: np.ndarray) -> pd.DataFrame:
        """The scrap table for the collected outflow per key (t magnet)."""
        table = self.template.copy()
        if len(self.key_row):
            table["t"] = self.sum(outflow[self.key_row] * self.content)
        return table


class StockCarry:
    """Opening stockpile levels from the previous year's closing levels.

    Replaces: the stock table with ``level`` replaced by a left merge of the previous year's
    ``stockpile_level`` on (region, element) (0 where absent), ``fill_max = max(0, capacity −
    level)``, and a fresh ``RangeIndex`` (as the merge gave).
    """

    def __init__(self) -> None:
        self._lookup = GridLookup(("region", "element"))

    def __call__(self, stock: pd.DataFrame, previous: xr.Dataset) -> pd.DataFrame:
        """``stock`` with the closing levels of ``previous`` (a one-year result) carried in."""
        closing = previous["stockpile_level"].isel(year=0)
        level = self._lookup(closing, stock["region"].tolist(), stock["element"].tolist())
        level = np.where(np.isnan(level), 0.0, level)
        capacity = stock["capacity"].to_numpy(dtype=float)
        return stock.reset_index(drop=True).assign(level=level,
                                                   fill_max=np.maximum(0.0, capacity - level))
