"""Unmet demand by sector, defence first."""

from __future__ import annotations

import xarray as xr

from rareflow.metrics._common import Members, members_list, sum_regions, with_units
from rareflow.metrics.contract import DEMAND_UNITS, require

#: Sector listed first in every unmet-demand table.
PRIORITY_SECTOR = "defence"


def unmet_demand(ds: xr.DataArray | xr.Dataset, region: Members | None = None) -> xr.DataArray:
    """Unmet demand by sector for a region, a group, or the world (``region=None``).

    Formula: ``U[sector] = Σ_{r ∈ G} unmet[r, sector]`` (``unmet = demand − served −
    substituted``). The ``sector`` coord is reordered with ``defence`` first, the others in
    dataset order. Units are the sector's own: t magnet for magnet sectors, t REO for oxide
    sectors — do not sum across sectors. Dims: year, sector (+ draw).
    """
    if isinstance(ds, xr.Dataset):
        require(ds, "unmet")
        unmet = ds["unmet"]
    else:
        unmet = ds
    total = unmet.sum("region") if region is None else sum_regions(unmet, members_list(region))
    sectors = [str(sector) for sector in total["sector"].values]
    order = [s for s in sectors if s == PRIORITY_SECTOR] + [
        s for s in sectors if s != PRIORITY_SECTOR
    ]
    return with_units(total.sel(sector=order), DEMAND_UNITS, "unmet")
