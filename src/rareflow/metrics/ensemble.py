"""Summaries of ensemble results (datasets with a ``draw`` dimension)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import xarray as xr

from rareflow.metrics._common import Members, with_units
from rareflow.metrics.sufficiency import (
    SUFFICIENCY_THRESHOLD,
    first_sufficient_year,
    self_sufficiency_share,
    sufficient_from,
)

DEFAULT_PERCENTILES: tuple[float, ...] = (5, 25, 50, 75, 95)


def fan(
    da: xr.DataArray, percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> xr.DataArray:
    """Percentiles across draws of any result series, for fan charts.

    Formula: ``fan[p, ...] = quantile_{draw}(da, p / 100)`` (linear interpolation, NaN draws
    skipped; all-NaN → NaN). The ``draw`` dim is replaced by ``percentile`` (values as given).
    Units: those of ``da``.
    """
    if "draw" not in da.dims:
        raise ValueError(f"fan needs a 'draw' dimension, got dims {tuple(da.dims)}")
    if any(not 0 <= p <= 100 for p in percentiles):
        raise ValueError(f"percentiles must lie in [0, 100], got {list(percentiles)}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
        bands = da.quantile([p / 100 for p in percentiles], dim="draw")
    bands = bands.rename(quantile="percentile").assign_coords(percentile=list(percentiles))
    result = bands.rename(da.name) if da.name is not None else bands
    result.attrs = dict(da.attrs)
    return result


def self_sufficiency_years(
    ds: xr.Dataset,
    members: Members,
    stage: str,
    element: str | Sequence[str],
    threshold: float = SUFFICIENCY_THRESHOLD,
    allied_members: Sequence[str] | None = None,
) -> xr.DataArray:
    """Per draw, the first year from which the group stays self-sufficient (NaN = never).

    Formula as :func:`rareflow.metrics.sufficiency.self_sufficiency_year`, draw by draw.
    Dims: draw. Units: year.
    """
    share = self_sufficiency_share(ds, members, stage, element, allied_members=allied_members)
    return first_sufficient_year(share, threshold)


def self_sufficiency_probability(
    ds: xr.Dataset,
    members: Members,
    stage: str,
    element: str | Sequence[str],
    threshold: float = SUFFICIENCY_THRESHOLD,
    allied_members: Sequence[str] | None = None,
) -> xr.DataArray:
    """Share of draws that are self-sufficient by each year (and stay so to the end).

    Formula: ``p[y] = (1/N) Σ_draw 1[self-sufficiency year of the draw ≤ y]`` — equivalently the
    mean over draws of "share ≥ threshold in y and every later year". Non-decreasing in ``y``.
    Dims: year. Units: fraction.
    """
    share = self_sufficiency_share(ds, members, stage, element, allied_members=allied_members)
    if "draw" not in share.dims:
        raise ValueError("self_sufficiency_probability needs a 'draw' dimension")
    holds = sufficient_from(share, threshold).astype(float)
    return with_units(holds.mean("draw"), "1", "self_sufficiency_probability")
