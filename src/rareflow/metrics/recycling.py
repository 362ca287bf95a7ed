"""Share of a region's oxide consumption met by recycled material."""

from __future__ import annotations

import xarray as xr

from rareflow.metrics._common import (
    ElementSel,
    Members,
    members_list,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import require


def recycled_share(
    ds: xr.Dataset,
    region: Members,
    element: ElementSel = None,
    *,
    stage: str = "separation",
) -> xr.DataArray:
    """Recycled oxide as a share of the region's (or group's) consumption at the oxide stage.

    Formula: ``R = Σ_{r ∈ G} recycled[r] / Σ_{r ∈ G} consumption[stage, r]`` (both t REO;
    ``stage`` defaults to ``separation``, i.e. oxide). ``element``: None keeps the element dim,
    a name selects, a list or ``"total"`` sums before dividing. NaN where consumption is zero.
    Dims: year (+ element, + draw). Units: fraction.
    """
    require(ds, "recycled", "consumption")
    group = members_list(region)
    recycled = select_element(sum_regions(ds["recycled"], group), element)
    consumption = select_element(
        sum_regions(ds["consumption"].sel(stage=stage, drop=True), group), element
    )
    return with_units(ratio(recycled, consumption), "1", "recycled_share")
