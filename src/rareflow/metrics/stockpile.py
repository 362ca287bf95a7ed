"""How many months of consumption a strategic stockpile covers."""

from __future__ import annotations

from typing import Literal

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
from rareflow.metrics.reliance import EMBEDDED_SCOPE, scope_apparent_consumption


def stockpile_cover_months(
    ds: xr.Dataset,
    region: Members,
    element: ElementSel,
    *,
    stage: str = STOCKPILE_STAGE,
    basis: Literal["embedded", "stage"] = "embedded",
) -> xr.DataArray:
    """Months of consumption the year-end stockpile would cover.

    ``basis="embedded"`` (default): ``cover = stockpile_level / (AC_emb / 12)`` with ``AC_emb``
    the region's (or group's) embedded apparent consumption
    (:func:`~rareflow.metrics.reliance.scope_apparent_consumption` over oxide, metal and the
    element content of magnets): a stock of Dy oxide has to stand in for the Dy in the magnets
    the region imports as well as for the oxide it buys.

    ``basis="stage"``: ``cover = stockpile_level / (consumption[stage] / 12)``, consumption of
    the stage's product only (oxide by default): what the stock covers if imported magnets keep
    arriving.

    NaN where consumption is zero. Dims: year (+ element if None, + draw). Units: months.
    """
    require(ds, "stockpile_level", "consumption")
    group = members_list(region)
    level = select_element(sum_regions(ds["stockpile_level"], group), element)
    if basis == "embedded":
        use = scope_apparent_consumption(ds, group, element, scope=EMBEDDED_SCOPE)
    elif basis == "stage":
        use = select_element(
            sum_regions(ds["consumption"].sel(stage=stage, drop=True), group), element)
    else:
        raise ValueError(f"basis must be 'embedded' or 'stage', got {basis!r}")
    return with_units(ratio(level, use / 12.0), "months", "stockpile_cover")
