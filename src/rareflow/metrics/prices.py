"""Prices inside China and outside it (the two-tier market export controls create)."""

from __future__ import annotations

from typing import Literal

import xarray as xr

from rareflow.metrics._common import outside, product_of, ratio, with_units
from rareflow.metrics.contract import STOCKPILE_STAGE, missing_variables, require
from rareflow.metrics.provenance import PRODUCT_STAGE, product_stage

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
    given, else as the mean of its origins' duals weighted by the region's supply of each origin
    (production at the stage - plus recycling for oxide - and imports of the stage's product):
    the price of the material buyers there actually get. The dual of an origin a region gets
    none of is not a price anyone pays - a banned origin can carry any value, and China's
    balance of non-Chinese oxide carries the world price - so it only counts when the region
    gets no supply at all; then the price is ``max_origin price``. Then:
    ``inside = p[china]``; ``outside = p[region]`` when ``region`` is given, else the
    consumption-weighted mean ``Σ_{r ≠ china} w[r]·p[r] / Σ w[r]`` with ``w`` = ``consumption``
    at ``stage`` of ``element`` over regions with a price (NaN duals — no balance row — are left
    out; NaN when no priced region outside China consumes it).
    Dims: year, market (``inside_china``, ``outside_china``) (+ draw). Units: USD/kg.
    """
    require(ds, "price", "consumption")
    price = ds["price"].sel(stage=stage, element=element, drop=True)
    if origin is None:
        price = _by_supply(ds, price, stage, element)
    else:
        price = price.sel(origin=origin, drop=True)
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


def _by_supply(ds: xr.Dataset, price: xr.DataArray, stage: str, element: str) -> xr.DataArray:
    """Origin duals averaged by each region's supply of that origin (max where it has none)."""
    if stage not in PRODUCT_STAGE or missing_variables(ds, ("production", "trade")):
        return price.max("origin")
    data_stage = product_stage(stage)
    produced = ds["production"].sel(stage=data_stage, element=element, drop=True)
    if data_stage == STOCKPILE_STAGE:
        produced = produced + ds["production"].sel(stage="recycling", element=element, drop=True)
    imported = (
        ds["trade"].sel(product=product_of(stage), element=element, drop=True)
        .sum("exporter").rename(importer="region")
    )
    supply = (produced + imported.reindex(region=produced["region"], fill_value=0.0)).clip(0.0)
    weights = supply.where(price.notnull(), 0.0)
    total = weights.sum("origin")
    mean = (price.fillna(0.0) * weights).sum("origin") / total.where(total > 0)
    return mean.where(total > 0, price.max("origin"))
