"""Fiscal cost of policy instruments (price floors, offtakes, capacity support)."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from rareflow.metrics._common import with_units
from rareflow.metrics.contract import require


def fiscal_cost(
    ds: xr.Dataset,
    start: int,
    end: int,
    *,
    instruments: Sequence[str] | None = None,
) -> xr.DataArray:
    """Government cost per instrument summed over the years ``start``…``end`` (inclusive).

    Formula: ``F[i] = Σ_{start ≤ y ≤ end} fiscal_cost[y, i]``, optionally for the named
    ``instruments`` only. Years outside the run contribute nothing. Dims: instrument (+ draw).
    Units: USD million.
    """
    require(ds, "fiscal_cost")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    cost = ds["fiscal_cost"]
    years = cost["year"]
    cost = cost.sel(year=(years >= start) & (years <= end))
    if instruments is not None:
        cost = cost.sel(instrument=list(instruments))
    return with_units(cost.sum("year"), "USD million", "fiscal_cost")
