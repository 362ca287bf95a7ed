"""Market shares of production per stage and their concentration (Herfindahl–Hirschman index)."""

from __future__ import annotations

from typing import Literal

import xarray as xr

from rareflow.metrics._common import TOTAL, ElementSel, ratio, select_element, with_units
from rareflow.metrics.contract import require


def market_share(
    ds: xr.Dataset,
    stage: str,
    *,
    by: Literal["region", "origin"] = "region",
    element: ElementSel = TOTAL,
) -> xr.DataArray:
    """Share of world production at ``stage`` by producing region (or by origin tag).

    Formula (``by="region"``): ``s[r] = P[r] / Σ_r' P[r']`` with ``P[r] = Σ_origin
    production[stage, r]``; (``by="origin"``): ``s[o] = Σ_r production[stage, r, o] / Σ P``, i.e.
    how much of the stage's output is China-origin material wherever it was processed.
    ``element`` defaults to ``"total"`` (all elements summed, t REO); None keeps the element dim.
    Shares sum to 1 over the ``by`` dim; NaN when the stage produced nothing.
    Dims: year, ``by`` (+ element, + draw). Units: fraction.
    """
    require(ds, "production")
    production = select_element(ds["production"].sel(stage=stage, drop=True), element)
    if by == "region":
        amounts = production.sum("origin")
    elif by == "origin":
        amounts = production.sum("region")
    else:
        raise ValueError(f"by must be 'region' or 'origin', got {by!r}")
    return with_units(ratio(amounts, amounts.sum(by)), "1", "market_share")


def hhi(ds: xr.Dataset, stage: str, *, element: ElementSel = TOTAL) -> xr.DataArray:
    """Herfindahl–Hirschman index of production at ``stage`` across regions.

    Formula: ``HHI = Σ_r (100 · s[r])²`` with ``s`` from :func:`market_share` (by region), on the
    0–10,000 scale (10,000 = one producer; US DOJ calls > 2,500 highly concentrated).
    NaN when the stage produced nothing. Dims: year (+ element, + draw). Units: index points.
    """
    shares = market_share(ds, stage, by="region", element=element)
    index = ((100.0 * shares) ** 2).sum("region", skipna=False)
    return with_units(index, "HHI (0-10000)", "hhi")
