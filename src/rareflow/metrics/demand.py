"""What became of demand, by sector (defence first): shortfall and demand response.

A result splits each (year, region, sector)'s demand at the reference price four ways::

    demand = served + substituted + demand_response + shortfall

``served`` is met with rare-earth material, ``substituted`` by the sector's substitute technology,
``demand_response`` is demand given up because prices are above the reference (negative when
prices below it raise use), and ``shortfall`` is demand that could not be served even at the
choke price, or that policy blocked from any supply. Only the last is a shortfall.
"""

from __future__ import annotations

import xarray as xr

from rareflow.metrics._common import Members, members_list, sum_regions, with_units
from rareflow.metrics.contract import DEMAND_UNITS, require

#: Sector listed first in every table by sector.
PRIORITY_SECTOR = "defence"

#: The parts of demand at the reference price, in the order of the identity above.
DEMAND_OUTCOMES: tuple[str, ...] = ("served", "substituted", "demand_response", "shortfall")


def shortfall(ds: xr.DataArray | xr.Dataset, region: Members | None = None) -> xr.DataArray:
    """Shortfall by sector for a region, a group, or the world (``region=None``).

    Formula: ``S[sector] = Σ_{r ∈ G} shortfall[r, sector]``, where ``shortfall = demand − served
    − substituted − demand_response`` is demand not served even at the choke price or blocked
    by policy. ``ds`` is a result dataset or its ``shortfall`` array. The ``sector`` coord is
    reordered with ``defence`` first, the others in dataset order. Units are the sector's own:
    t magnet for magnet sectors, t REO for oxide sectors — do not sum across sectors. Dims:
    year, sector (+ draw).
    """
    return _by_sector(ds, "shortfall", region)


def demand_response(ds: xr.DataArray | xr.Dataset, region: Members | None = None) -> xr.DataArray:
    """Demand given up to prices above the reference, by sector, for a region, group or world.

    Formula: ``R[sector] = Σ_{r ∈ G} demand_response[r, sector]``, where ``demand_response =
    demand − served − substituted − shortfall``: demand at the reference price less what buyers
    still want at the prices they face (negative when lower prices raise use). ``ds`` is a
    result dataset or its ``demand_response`` array. Sector order, units and dims as
    :func:`shortfall`.
    """
    return _by_sector(ds, "demand_response", region)


def _by_sector(ds: xr.DataArray | xr.Dataset, name: str, region: Members | None) -> xr.DataArray:
    """``ds[name]`` summed over the regions of ``region`` (all if None), defence first."""
    if isinstance(ds, xr.Dataset):
        require(ds, name)
        values = ds[name]
    else:
        values = ds
    total = values.sum("region") if region is None else sum_regions(values, members_list(region))
    sectors = [str(sector) for sector in total["sector"].values]
    order = [s for s in sectors if s == PRIORITY_SECTOR] + [
        s for s in sectors if s != PRIORITY_SECTOR
    ]
    return with_units(total.sel(sector=order), DEMAND_UNITS, name)
