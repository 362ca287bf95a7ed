"""How many months of consumption a strategic stockpile covers."""

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
from rareflow.metrics.contract import STOCKPILE_STAGE, require


def stockpile_cover_months(
    ds: xr.Dataset,
    region: Members,
    element: ElementSel,
    *,
    stage: str = STOCKPILE_STAGE,
) -> xr.DataArray:
    """Months of consumption the year-end stockpile would cover.

    Formula: ``cover = stockpile_level / (consumption[stage] / 12)`` summed over the region or
    group (consumption at the oxide stage by default, since stocks hold oxide). NaN where
    consumption is zero. Dims: year (+ element if None, + draw). Units: months.
    """
    require(ds, "stockpile_level", "consumption")
    group = members_list(region)
    level = select_element(sum_regions(ds["stockpile_level"], group), element)
    monthly = select_element(
        sum_regions(ds["consumption"].sel(stage=stage, drop=True), group), element
    ) / 12.0
    return with_units(ratio(level, monthly), "months", "stockpile_cover")
