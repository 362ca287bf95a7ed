"""The simulator's per-year bookkeeping between solves, in numpy over layouts worked out once.

What a year hands to the next — end-of-life scrap from the magnets in use, the magnets newly put
into use, the closing stockpile levels — involves keys fixed for a run, so their positions are
found once and a year is a gather, a multiplication and a grouped sum
(:mod:`rareflow.engine.grouping`) instead of pandas merges and groupbys, which cost more than
the solve.
Each function here states the pandas operation it replaces; tests check both agree exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from rareflow.engine.grouping import GroupSum, fresh_copy
from rareflow.engine.network import origin_tag


class LabelPositions:
    """Positions of labels in a pandas index; the lookup table is kept while the index is."""

    def __init__(self) -> None:
        self._index: pd.Index | None = None
        self._positions: dict[object, int] = {}
        self._labels: Sequence[object] | None = None
        self._found = np.zeros(0, dtype=np.intp)

    def __call__(self, index: pd.Index, labels: Sequence[object]) -> np.ndarray:
        """Position of each label in ``index`` (−1 where absent; read-only)."""
        if index is not self._index:  # pandas indexes are immutable: identity is enough
            self._positions = {label: i for i, label in enumerate(index.tolist())}
            self._index = index
            self._labels = None
        # The callers pass the same label tuple (or a list they never change) every year.
        if labels is not self._labels or len(labels) != len(self._found):
            positions = self._positions
            found = np.fromiter((positions.get(label, -1) for label in labels), dtype=np.intp,
                                count=len(labels))
            found.flags.writeable = False
            self._labels, self._found = labels, found
        return self._found


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
        return self._at(array.to_numpy(), indexes[self.dims[0]], indexes[self.dims[1]],
                        first, second)

    def year_values(self, dataset: xr.Dataset, name: str, first: Sequence[object],
                    second: Sequence[object]) -> np.ndarray:
        """``dataset[name].isel(year=0)`` at the pairs, without building the ``DataArray``.

        A one-year result holds ``name`` over ``("year", *dims)``; anything else takes the
        general path.
        """
        variable = dataset.variables[name]
        indexes = dataset.xindexes
        index0, index1 = indexes.get(self.dims[0]), indexes.get(self.dims[1])
        if variable.dims != ("year", *self.dims) or variable.shape[0] != 1 \
                or not isinstance(index0, PandasIndex) or not isinstance(index1, PandasIndex):
            return self(dataset[name].isel(year=0), first, second)
        return self._at(variable.values[0], index0.index, index1.index, first, second)

    def _at(self, values: np.ndarray, index0: pd.Index, index1: pd.Index,
            first: Sequence[object], second: Sequence[object]) -> np.ndarray:
        """``values`` (over ``index0`` × ``index1``) at the pairs, NaN where a label is absent."""
        rows = self._positions[0](index0, first)
        cols = self._positions[1](index1, second)
        found = (rows >= 0) & (cols >= 0)
        out = np.full(len(rows), np.nan)
        out[found] = values[rows[found], cols[found]]
        return out


class ScrapLayout:
    """Which outflow and content values make up each row of the scrap table, worked out once.

    Replaces, per year: ``keys.assign(t_magnet=outflow).merge(content, on="sector")``, ``t =
    t_magnet × content``, the origin of :func:`~rareflow.engine.network.origin_tag` (scrap is
    collected where it arises), and ``groupby(["region",
    "element", "origin"]).agg(t=("t", "sum"))``. The merge and the grouping depend only on the
    keys (regions, sectors, elements), not on any number: see :func:`scrap_layout`.
    """

    def __init__(self, keys: pd.DataFrame, content_keys: pd.DataFrame, china: str) -> None:
        content = content_keys[["sector", "element"]].assign(
            content=0.0, content_row=np.arange(len(content_keys)))
        table = keys.assign(t_magnet=0.0, key_row=np.arange(len(keys))).merge(content,
                                                                               on="sector")
        table["t"] = table.t_magnet * table.content
        table["origin"] = origin_tag(table.region, china)
        grouped = table.groupby(["region", "element", "origin"], as_index=False)
        self.template = grouped.agg(t=("t", "sum"))
        self.key_row = table.key_row.to_numpy(dtype=np.intp)
        self.content_row = table.content_row.to_numpy(dtype=np.intp)
        codes = grouped.ngroup().to_numpy(dtype=float)
        self.sum = GroupSum(np.where(np.isnan(codes), -1, codes).astype(np.intp),
                            len(self.template))


@functools.lru_cache(maxsize=16)
def scrap_layout(keys: tuple[tuple[str, str], ...], content_keys: tuple[tuple[str, str], ...],
                 china: str) -> ScrapLayout:
    """The (shared) layout for (region, sector) ``keys`` and (sector, element) content rows."""
    return ScrapLayout(pd.DataFrame(keys, columns=["region", "sector"]),
                       pd.DataFrame(content_keys, columns=["sector", "element"]), china)


class ScrapTable:
    """End-of-life scrap per (region, element, origin) from the outflow per (region, sector).

    ``content`` holds t REO of each element per t of a sector's magnets, one value per
    (sector, element) row of the layout's content table; see :class:`ScrapLayout` for the
    pandas operations this replaces.
    """

    def __init__(self, layout: ScrapLayout, content: np.ndarray) -> None:
        self.layout = layout
        self.template = layout.template
        self.key_row = layout.key_row
        self.content = np.asarray(content, dtype=float)[layout.content_row]

    def table(self, outflow: np.ndarray) -> pd.DataFrame:
        """The scrap table for the collected outflow per key (t magnet)."""
        table = fresh_copy(self.template)
        if len(self.key_row):
            table["t"] = self.layout.sum(outflow[self.key_row] * self.content)
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
        level = self.levels(previous, stock["region"].tolist(), stock["element"].tolist())
        capacity = stock["capacity"].to_numpy(dtype=float)
        table = stock.reset_index(drop=True)
        table["level"] = level
        table["fill_max"] = np.maximum(0.0, capacity - level)
        return table

    def levels(self, previous: xr.Dataset, regions: Sequence[object],
               elements: Sequence[object]) -> np.ndarray:
        """Closing level of ``previous`` at each (region, element) row (0 where absent)."""
        level = self._lookup.year_values(previous, "stockpile_level", regions, elements)
        return np.where(np.isnan(level), 0.0, level)
