"""China-origin content of the magnets a region (or group) consumes.

The contract's ``magnet_trade`` carries no origin, so on the magnet-tonne basis origin is traced
through trade by *proportional mixing*: each region pools the magnets it makes and imports (per
grade), and everything leaving the pool — exports and its own consumption — has the pool's mix.
That gives, per year and grade, a small linear system for the pool's "may contain China-origin"
share ``S`` of every region ``r``::

    S[r] · (Pm[r] + Σ_e T[e, r]) = Pc[r] + Σ_e T[e, r] · S[e]

with ``Pm`` = ``magnet_production`` (all origins), ``Pc`` = its ``china`` part and ``T`` =
``magnet_trade`` between different regions. So re-exports (China → Vietnam → United States) keep
their taint. A region whose pool is empty gets ``S = 1`` (it ships nothing in a balanced result;
if it does, its shipments are conservatively counted as possibly China-origin).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

from rareflow.metrics._common import Members, members_list, ratio, sum_regions, with_units
from rareflow.metrics.contract import require
from rareflow.metrics.trade import exports, imports


def china_origin_content(
    ds: xr.Dataset,
    region: Members,
    *,
    basis: Literal["magnet", "reo"] = "magnet",
) -> xr.DataArray:
    """Share of a region's (or group's) magnet consumption that may contain China-origin material.

    ``basis="magnet"`` (default, t magnet): ``C[r] = Pm[r] + Σ_e T[e, r] − Σ_i T[r, i]`` per grade
    and ``share = Σ_{r ∈ G, grade} C[r]·S[r] / Σ_{r ∈ G, grade} C[r]`` with the pool shares ``S``
    of the module docstring ("may contain", the de-minimis view: one China-origin gram taints).

    ``basis="reo"`` (t REO, exact, no mixing assumption): the China-origin *mass* share of the REO
    contained in the magnets consumed, ``(P + M − X)[china] / Σ_origin (P + M − X)``, from
    ``production`` at stage ``magnet`` and ``trade`` of product ``magnet`` across the group border.

    NaN where the region consumes no magnets. Dims: year (+ draw). Units: fraction.
    """
    group = members_list(region)
    if basis == "magnet":
        return with_units(_magnet_basis(ds, group), "1", "china_origin_content")
    if basis == "reo":
        return with_units(_reo_basis(ds, group), "1", "china_origin_content")
    raise ValueError(f"basis must be 'magnet' or 'reo', got {basis!r}")


def pool_china_share(ds: xr.Dataset) -> xr.DataArray:
    """Per region and grade, the share of its magnet pool that may contain China-origin material.

    Solves the proportional-mixing system of the module docstring. Dims: year, region, grade
    (+ draw). Units: fraction.
    """
    require(ds, "magnet_production", "magnet_trade")
    regions = [str(region) for region in ds["region"].values]
    made = ds["magnet_production"].sum("origin")
    tainted = ds["magnet_production"].sel(origin="china", drop=True)
    shipments = _between_regions(ds, regions)
    shares: xr.DataArray = xr.apply_ufunc(
        _solve_pool_shares,
        made,
        tainted,
        shipments,
        input_core_dims=[["region"], ["region"], ["exporter", "importer"]],
        output_core_dims=[["region"]],
    )
    return with_units(shares.transpose(*_order(shares)), "1", "pool_china_share")


def _magnet_basis(ds: xr.Dataset, group: list[str]) -> xr.DataArray:
    regions = [str(region) for region in ds["region"].values]
    shipments = _between_regions(ds, regions)
    made = ds["magnet_production"].sum("origin")
    received = shipments.sum("exporter").rename(importer="region")
    sent = shipments.sum("importer").rename(exporter="region")
    consumed = made + received - sent
    shares = pool_china_share(ds)
    tainted = sum_regions(consumed * shares, group).sum("grade")
    total = sum_regions(consumed, group).sum("grade")
    return ratio(tainted, total)


def _reo_basis(ds: xr.Dataset, group: list[str]) -> xr.DataArray:
    require(ds, "production", "trade")
    made = sum_regions(ds["production"].sel(stage="magnet", drop=True), group)
    consumed = (
        made
        + imports(ds, "magnet", group, by_origin=True)
        - exports(ds, "magnet", group, by_origin=True)
    ).sum("element")
    return ratio(consumed.sel(origin="china", drop=True), consumed.sum("origin"))


def _between_regions(ds: xr.Dataset, regions: list[str]) -> xr.DataArray:
    """``magnet_trade`` reindexed to the region order, shipments to oneself set to zero."""
    trade = ds["magnet_trade"].reindex(exporter=regions, importer=regions, fill_value=0.0)
    same = xr.DataArray(
        np.eye(len(regions), dtype=bool),
        dims=("exporter", "importer"),
        coords={"exporter": regions, "importer": regions},
    )
    return trade.where(~same, 0.0)


def _solve_pool_shares(
    made: npt.NDArray[np.float64],
    tainted: npt.NDArray[np.float64],
    shipments: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Solve ``(diag(pool) − Tᵀ) S = Pc`` over stacked leading dims (last dims: region(s))."""
    n = made.shape[-1]
    incoming = shipments.sum(axis=-2)
    pool = made + incoming
    matrix = -np.swapaxes(shipments, -1, -2)
    idx = np.arange(n)
    matrix[..., idx, idx] = pool
    rhs = tainted.astype(np.float64).copy()
    empty = pool <= 0
    matrix = np.where(empty[..., :, None], np.eye(n), matrix)
    rhs = np.where(empty, 1.0, rhs)
    try:
        solution = np.linalg.solve(matrix, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        solution = (np.linalg.pinv(matrix) @ rhs[..., None])[..., 0]
    result: npt.NDArray[np.float64] = np.clip(solution, 0.0, 1.0)
    return result


def _order(da: xr.DataArray) -> list[str]:
    preferred = ["draw", "year", "region", "grade"]
    dims = [str(dim) for dim in da.dims]
    return [dim for dim in preferred if dim in dims] + [d for d in dims if d not in preferred]
