"""Net import reliance, USGS definition, for a region or a group at one stage.

USGS (Mineral Commodity Summaries, "net import reliance as a percentage of apparent
consumption")::

    NIR = (imports − exports + stock adjustment) / apparent consumption
    apparent consumption = production + imports − exports + stock adjustment

Here ``stock adjustment`` is ``stockpile_release`` (drawn from stock is positive, filling is
negative). The contract does not say which product the strategic stockpiles hold; they are taken
as oxide, so the adjustment applies only at :data:`~rareflow.metrics.contract.STOCKPILE_STAGE`
(``separation``) unless ``stock_stage`` says otherwise.

USGS does not print negative values: a net exporter is shown as ``E``. :func:`net_import_reliance`
keeps the raw (possibly negative) number so nothing is lost; :func:`format_reliance` renders it the
USGS way. With production ≥ 0 and positive apparent consumption the value is ≤ 1 by construction,
so no clipping is needed; zero apparent consumption gives NaN.
"""

from __future__ import annotations

import math

import xarray as xr

from rareflow.metrics._common import (
    ElementSel,
    Members,
    members_list,
    product_of,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import STOCKPILE_STAGE, require
from rareflow.metrics.trade import exports, imports


def apparent_consumption(
    ds: xr.Dataset,
    stage: str,
    region_or_members: Members,
    element: ElementSel = None,
    *,
    stock_stage: str | None = STOCKPILE_STAGE,
) -> xr.DataArray:
    """USGS apparent consumption of a stage's product by a region or group.

    Formula: ``AC = P + M − X + R`` with ``P`` the group's production at ``stage``, ``M``/``X``
    imports/exports of the stage's product across the group border (intra-group trade nets out)
    and ``R`` the group's ``stockpile_release`` when ``stage == stock_stage`` (else 0).
    Dims: year (+ element unless selected, + draw). Units: t REO.
    """
    require(ds, "production", "trade", "stockpile_release")
    group = members_list(region_or_members)
    net = _net_imports(ds, stage, group, element, stock_stage)
    production = select_element(
        sum_regions(ds["production"].sel(stage=stage, drop=True), group).sum("origin"), element
    )
    return with_units(production + net, "t REO", "apparent_consumption")


def net_import_reliance(
    ds: xr.Dataset,
    stage: str,
    region_or_members: Members,
    element: ElementSel = None,
    *,
    stock_stage: str | None = STOCKPILE_STAGE,
) -> xr.DataArray:
    """Net import reliance (USGS) of a region or group at a stage, as a fraction.

    Formula: ``NIR = (M − X + R) / (P + M − X + R)`` where ``P`` = production at ``stage`` summed
    over members and origins; ``M``, ``X`` = imports from / exports to regions outside the group
    of the stage's product (``mining``/``concentration`` → concentrate, ``separation`` → oxide,
    ``metal`` → metal, ``magnet`` → magnet; trade between members nets out); ``R`` =
    ``stockpile_release`` at ``stock_stage``. ``element``: None keeps the element dim, a name
    selects, a list or ``"total"`` sums numerator and denominator before dividing.

    Returns a fraction (1 = fully import reliant); negative = net exporter (USGS "E", see
    :func:`format_reliance`); NaN where apparent consumption is zero. Dims: year (+ element,
    + draw).
    """
    group = members_list(region_or_members)
    net = _net_imports(ds, stage, group, element, stock_stage)
    consumption = apparent_consumption(ds, stage, group, element, stock_stage=stock_stage)
    return with_units(ratio(net, consumption), "1", "net_import_reliance")


def format_reliance(value: float, *, digits: int = 0) -> str:
    """Render a net import reliance fraction the USGS way.

    Negative (net exporter) → ``"E"``; NaN → ``"n/a"``; otherwise ``100 × value`` as a
    percentage, e.g. ``0.754 → "75 %"``.
    """
    if math.isnan(value):
        return "n/a"
    if value < 0:
        return "E"
    return f"{100 * value:.{digits}f} %"


def _net_imports(
    ds: xr.Dataset,
    stage: str,
    group: list[str],
    element: ElementSel,
    stock_stage: str | None,
) -> xr.DataArray:
    """``M − X + R`` for the group (t REO)."""
    product = product_of(stage)
    net = imports(ds, product, group) - exports(ds, product, group)
    if stock_stage is not None and stage == stock_stage:
        net = net + sum_regions(ds["stockpile_release"], group)
    return select_element(net, element)
