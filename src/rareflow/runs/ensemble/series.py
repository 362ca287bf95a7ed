"""The few key series of a draw that ensemble summaries need, stored with every draw.

Fan charts and self-sufficiency probabilities across 1,000 draws must not read every draw's
full result back. So each draw also carries two small variables, computed in the worker:

* ``key_series`` (series, year): prices inside and outside China, shortfall and demand response
  outside China per sector, China's share of separation and magnet making, recycled share of
  oxide use; the ``unit`` coordinate along ``series`` gives each one's unit.
* ``sufficiency_share`` (target, year): the domestic + allied share of demand of each
  self-sufficiency target (region group, stage, element); a draw is self-sufficient from the
  first year the share stays at or above
  :data:`~rareflow.metrics.sufficiency.SUFFICIENCY_THRESHOLD`.
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from rareflow.metrics.demand import demand_response, shortfall
from rareflow.metrics.prices import prices
from rareflow.metrics.recycling import recycled_share
from rareflow.metrics.shares import market_share
from rareflow.metrics.sufficiency import SUFFICIENCY_THRESHOLD, self_sufficiency_share
from rareflow.model.world import World

#: Share of demand met from domestic + allied supply that counts as self-sufficient.

#: (region or group, stage, element) of each self-sufficiency target.
TARGETS: tuple[tuple[str, str, str], ...] = (
    ("USA", "separation", "NdPr"),
    ("USA", "separation", "Dy"),
    ("USA", "magnet", "NdPr"),
    ("EU", "separation", "NdPr"),
    ("EU", "magnet", "NdPr"),
)
PRICE_ELEMENTS: tuple[str, ...] = ("NdPr", "Dy", "Tb")
ALLIES = "allies"
#: Result variables the metrics below read.
USED_VARIABLES: tuple[str, ...] = ("production", "consumption", "trade", "shortfall",
                                   "demand_response", "recycled", "price")


def target_label(group: str, stage: str, element: str) -> str:
    """Label of a self-sufficiency target, e.g. ``USA magnet NdPr ≥90 % domestic+allied``."""
    return f"{group} {stage} {element} ≥{100 * SUFFICIENCY_THRESHOLD:.0f} % domestic+allied"


def key_series(result: xr.Dataset, world: World) -> xr.Dataset:
    """``key_series`` and ``sufficiency_share`` of a result (see the module docstring).

    ``result`` may carry a ``draw`` dimension: a worker computes a whole batch of draws in one
    call, since the cost of these metrics is per call far more than per value.
    """
    result = result[[name for name in USED_VARIABLES if name in result.data_vars]]
    regions = [str(r) for r in result["region"].values]
    china = world.china
    outside = [r for r in regions if r != china]
    rows: list[tuple[str, str, xr.DataArray]] = []
    for element in PRICE_ELEMENTS:
        two_tier = prices(result, "separation", element, china=china)
        for market, label in (("inside_china", "inside China"), ("outside_china",
                                                                 "outside China")):
            rows.append((f"{element} oxide price, {label}", "USD/kg",
                         two_tier.sel(market=market)))
    for label, metric in (("Shortfall", shortfall), ("Demand response", demand_response)):
        by_sector = metric(result, outside)
        for sector in by_sector["sector"].values:
            rows.append((f"{label} outside China, {sector}",
                         str(by_sector.attrs.get("units", "t")), by_sector.sel(sector=sector)))
    for stage in ("separation", "magnet"):
        rows.append((f"China share of {stage}", "%",
                     100 * market_share(result, stage).sel(region=china)))
    rows.append(("Recycled share of oxide use outside China", "%",
                 100 * recycled_share(result, outside, "total")))
    series = _along([da for _, _, da in rows], "series", [name for name, _, _ in rows])
    series = series.assign_coords(unit=("series", [unit for _, unit, _ in rows]))
    series.attrs = {"long_name": "key series"}
    shares = _sufficiency_shares(result, world, regions)
    return xr.Dataset({"key_series": series, "sufficiency_share": shares})


def _sufficiency_shares(result: xr.Dataset, world: World, regions: Sequence[str]) -> xr.DataArray:
    known = set(regions)
    allied_all = [r for r in world.group_members(ALLIES) if r in known]
    labels, shares = [], []
    for group, stage, element in TARGETS:
        members = [r for r in world.group_members(group) if r in known]
        if not members:
            continue
        allied = [r for r in allied_all if r not in members]
        shares.append(self_sufficiency_share(result, members, stage, element,
                                             allied_members=allied))
        labels.append(target_label(group, stage, element))
    stacked = _along(shares, "target", labels)
    stacked.attrs = {"units": "1", "threshold": SUFFICIENCY_THRESHOLD}
    return stacked


def _along(arrays: Sequence[xr.DataArray], dim: str, labels: Sequence[str]) -> xr.DataArray:
    """Year series (with or without ``draw``) stacked along a new labelled ``dim``, as floats."""
    cleaned = [da.astype(float).drop_vars([c for c in da.coords if c not in da.dims])
               for da in arrays]
    stacked = xr.concat(cleaned, dim=dim, coords="minimal", compat="override",
                        join="exact").assign_coords({dim: list(labels)})
    order = [d for d in ("draw", dim, "year") if d in stacked.dims]
    return stacked.transpose(*order)
