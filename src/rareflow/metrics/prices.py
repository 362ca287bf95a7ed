"""Prices inside China and outside it (the two-tier market export controls create)."""

from __future__ import annotations

from typing import Literal

import xarray as xr

from rareflow.metrics._common import outside, ratio, with_units
from rareflow.metrics.contract import require

DEFAULT_CHINA = "CHN"


def prices(
    ds: xr.Dataset,
    stage: str = "separation",
    element: str = "NdPr",
    *,
    region: str | None = None,
    china: str = DEFAULT_CHINA,
    origin: Literal["china", "other"] | None = None,
) -> xr.DataArray:
    """Price of a stage's product inside China and outside it, per year.

    ``price`` is the dual of a balance per origin. A region's price is taken for ``origin`` if
    given, else as ``max_origin price`` — the marginal value of the material buyers there
    compete for (a free, unused origin balance has a zero dual). Then:
    ``inside = p[china]``; ``outside = p[region]`` when ``region`` is given, else the
    consumption-weighted mean ``Σ_{r ≠ china} w[r]·p[r] / Σ w[r]`` with ``w`` = ``consumption``
    at ``stage`` of ``element`` over regions with a price (NaN duals — no balance row — are left
    out; NaN when no priced region outside China consumes it).
    Dims: year, market (``inside_china``, ``outside_china``) (+ draw). Units: USD/kg.
    """
    require(ds, "price", "consumption")
    price = ds["price"].sel(stage=stage, element=element, drop=True)
    price = price.max("origin") if origin is None else price.sel(origin=origin, drop=True)
    inside = price.sel(region=china, drop=True)
    if region is not None:
        rest = price.sel(region=region, drop=True)
    else:
        others = outside(price, [china], "region")
        rest_prices = price.sel(region=others)
        weights = ds["consumption"].sel(stage=stage, element=element, region=others, drop=True)
        weights = weights.where(rest_prices.notnull(), 0.0)
        rest = ratio((rest_prices.fillna(0.0) * weights).sum("region"), weights.sum("region"))
    both = xr.concat([inside, rest], dim="market", coords="minimal", compat="override")
    both = both.assign_coords(market=["inside_china", "outside_china"])
    return with_units(both.transpose("market", ...), "USD/kg", "price")
