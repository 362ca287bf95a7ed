"""Trade of a region or group with the rest of the world, intra-group shipments netted out."""

from __future__ import annotations

import xarray as xr

from rareflow.metrics._common import Members, members_list, outside, with_units
from rareflow.metrics.contract import require


def imports_by_partner(
    ds: xr.Dataset, product: str, members: Members, *, by_origin: bool = False
) -> xr.DataArray:
    """Shipments of ``product`` into the group, by exporting third country.

    Formula: ``M[e] = Σ_{i ∈ G} Σ_origin trade[product, exporter=e, importer=i]`` for every
    exporter ``e ∉ G`` (not summed over origin when ``by_origin``). Dims: (year, exporter,
    element[, origin]) plus any ``draw``. Units: t REO.
    """
    trade = _trade(ds)
    group = members_list(members)
    flows = trade.sel(product=product, drop=True).sel(
        importer=group, exporter=outside(trade, group, "exporter")
    )
    dims = ("importer",) if by_origin else ("importer", "origin")
    return with_units(flows.sum(dims), "t REO", "imports")


def imports(
    ds: xr.Dataset, product: str, members: Members, *, by_origin: bool = False
) -> xr.DataArray:
    """Total shipments of ``product`` into the group from outside it.

    Formula: ``M = Σ_{e ∉ G} Σ_{i ∈ G} trade[product, e, i]`` (summed over origin unless
    ``by_origin``). Dims: (year, element[, origin]). Units: t REO.
    """
    group = members_list(members)
    trade = _trade(ds)
    flows = trade.sel(product=product, drop=True).sel(
        importer=group, exporter=outside(trade, group, "exporter")
    )
    dims = ("exporter", "importer") if by_origin else ("exporter", "importer", "origin")
    return with_units(flows.sum(dims), "t REO", "imports")


def exports(
    ds: xr.Dataset, product: str, members: Members, *, by_origin: bool = False
) -> xr.DataArray:
    """Total shipments of ``product`` from the group to outside it.

    Formula: ``X = Σ_{e ∈ G} Σ_{i ∉ G} trade[product, e, i]`` (summed over origin unless
    ``by_origin``). Dims: (year, element[, origin]). Units: t REO.
    """
    group = members_list(members)
    trade = _trade(ds)
    flows = trade.sel(product=product, drop=True).sel(
        exporter=group, importer=outside(trade, group, "importer")
    )
    dims = ("exporter", "importer") if by_origin else ("exporter", "importer", "origin")
    return with_units(flows.sum(dims), "t REO", "exports")


def _trade(ds: xr.Dataset) -> xr.DataArray:
    require(ds, "trade")
    return ds["trade"]
