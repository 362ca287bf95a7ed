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

Three definitions, each named where a number is shown (docs/reliance.md):

* **per stage** (:func:`net_import_reliance`): one traded product (oxide, metal or magnets);
* **USGS compounds and metals** (:func:`usgs_net_import_reliance`), the scope of the MCS
  "Rare Earths" net import reliance: separated oxide and metal taken as one material
  (:data:`USGS_SCOPE`), excluding ores and concentrates and excluding the rare earths inside
  magnets and other products, so it can be set beside the MCS figures;
* **embedded content** (:func:`embedded_net_import_reliance`): the USGS scope widened to the
  rare-earth content of magnets (:data:`EMBEDDED_SCOPE`), per element, split by origin tag with
  :func:`embedded_reliance_by_origin` - the Dy in an imported magnet counts as imported Dy.
"""

from __future__ import annotations

import math
from typing import Final

import xarray as xr

from rareflow.metrics._common import (
    ElementSel,
    Members,
    members_list,
    outside,
    product_of,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import STOCKPILE_STAGE, require
from rareflow.metrics.trade import exports, imports

#: Stages whose products make up USGS's "rare-earth compounds and metals": separated oxide
#: (compounds) and metal. Ores and concentrates (``mining``/``concentration``) and magnets are
#: outside the scope.
USGS_SCOPE: Final[tuple[str, ...]] = ("separation", "metal")
#: :data:`USGS_SCOPE` plus the rare-earth content of magnets (t REO by recipe).
EMBEDDED_SCOPE: Final[tuple[str, ...]] = ("separation", "metal", "magnet")


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


def scope_apparent_consumption(
    ds: xr.Dataset,
    region_or_members: Members,
    element: ElementSel = None,
    *,
    scope: tuple[str, ...] = USGS_SCOPE,
) -> xr.DataArray:
    """Apparent consumption of the products of ``scope`` taken as one material (t REO).

    Formula: ``AC = P + Σ_{s ∈ scope} (M_s − X_s) + R`` with ``P`` the group's separated
    oxide production (``production`` at ``separation``, all origins: the one point where
    material enters the scope; metal and magnets made at home are transformations inside it,
    so they are not counted again), ``M_s``/``X_s`` imports/exports across the group border of
    the product of stage ``s`` (t REO; magnets by recipe content) and ``R`` the group's
    ``stockpile_release``. Recycled oxide is neither production nor import (MCS reports
    recycling apart; in-plant swarf would otherwise count twice). Dims: year (+ element unless
    selected, + draw). Units: t REO.
    """
    group = members_list(region_or_members)
    return _consumption_with(ds, group, _scope_net_imports(ds, group, scope), element)


def _consumption_with(ds: xr.Dataset, group: list[str], net_imports: xr.DataArray,
                      element: ElementSel) -> xr.DataArray:
    """:func:`scope_apparent_consumption` given the scope's net imports (``Σ (M − X) + R``)."""
    require(ds, "production", "trade", "stockpile_release")
    produced = sum_regions(ds["production"].sel(stage="separation", drop=True), group)
    total = select_element(produced.sum("origin") + net_imports, element)
    return with_units(total, "t REO", "apparent_consumption")


def usgs_net_import_reliance(
    ds: xr.Dataset, region_or_members: Members, element: ElementSel = "total"
) -> xr.DataArray:
    """Net import reliance for rare-earth compounds and metals, on the USGS MCS scope.

    Formula: ``NIR = (Σ_{s ∈ {oxide, metal}} (M_s − X_s) + R) / AC`` with ``AC`` from
    :func:`scope_apparent_consumption` over :data:`USGS_SCOPE` (separated oxide plus metal, no
    concentrate, no magnets). ``element`` defaults to ``"total"`` (all rare earths, as USGS
    reports). Fraction; negative = net exporter ("E"); NaN where ``AC`` is zero. Dims: year
    (+ element, draw).
    """
    return _scope_reliance(ds, members_list(region_or_members), element, USGS_SCOPE,
                           "usgs_net_import_reliance")


def embedded_net_import_reliance(
    ds: xr.Dataset, region_or_members: Members, element: ElementSel = None
) -> xr.DataArray:
    """Net import reliance counting the rare earths inside imported magnets, per element.

    Formula: as :func:`usgs_net_import_reliance` over :data:`EMBEDDED_SCOPE`:
    ``NIR_emb = (Σ_{s ∈ {oxide, metal, magnet}} (M_s − X_s) + R) / AC_emb`` with magnets in t REO
    of each element by recipe, so 1 t of Dy in imported magnets weighs as 1 t of imported Dy
    oxide. Fraction; NaN where ``AC_emb`` is zero. Dims: year (+ element unless selected,
    + draw).
    """
    return _scope_reliance(ds, members_list(region_or_members), element, EMBEDDED_SCOPE,
                           "embedded_net_import_reliance")


def embedded_reliance_by_origin(
    ds: xr.Dataset, region_or_members: Members, element: ElementSel = None
) -> xr.DataArray:
    """Net imports by origin tag over embedded apparent consumption (oxide, metal, magnets).

    Formula: ``S[o] = Σ_{s ∈ EMBEDDED_SCOPE} (M_s[o] − X_s[o]) / AC_emb`` per origin tag ``o``
    of the shipments (``china``: China-origin material or magnets that may contain it, the
    tag the 0.1 % de-minimis rule reads; it is kept through any re-export). ``Σ_o S[o] + R /
    AC_emb`` equals :func:`embedded_net_import_reliance`. Dims: year, origin (+ element,
    draw). Units: fraction.
    """
    group = members_list(region_or_members)
    by_origin = _scope_net_imports(ds, group, EMBEDDED_SCOPE, by_origin=True)
    consumption = scope_apparent_consumption(ds, group, element, scope=EMBEDDED_SCOPE)
    return with_units(ratio(select_element(by_origin, element), consumption), "1",
                      "embedded_reliance_by_origin")


def _scope_reliance(ds: xr.Dataset, group: list[str], element: ElementSel,
                    scope: tuple[str, ...], name: str) -> xr.DataArray:
    net_imports = _scope_net_imports(ds, group, scope)  # once: the numerator and inside AC
    consumption = _consumption_with(ds, group, net_imports, element)
    return with_units(ratio(select_element(net_imports, element), consumption), "1", name)


def _scope_net_imports(ds: xr.Dataset, group: list[str], scope: tuple[str, ...], *,
                       by_origin: bool = False) -> xr.DataArray:
    """``Σ_s (M_s − X_s)`` over the products of ``scope``, plus ``R`` unless ``by_origin``."""
    require(ds, "trade")
    # one selection per direction over all the scope's products (the answers table calls this
    # dozens of times per run)
    trade = ds["trade"].sel(product=[product_of(stage) for stage in scope])
    summed = ("product", "exporter", "importer") if by_origin else (
        "product", "exporter", "importer", "origin")
    inflow = trade.sel(importer=group, exporter=outside(trade, group, "exporter")).sum(summed)
    outflow = trade.sel(exporter=group, importer=outside(trade, group, "importer")).sum(summed)
    net = inflow - outflow
    if not by_origin:
        net = net + sum_regions(ds["stockpile_release"], group)
    return net
