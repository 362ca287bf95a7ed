"""Time-series figures of one run: prices, shortfalls by sector, shares per stage, reliance.

The shortfall chart also draws each sector's demand response, as a separate series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from rareflow.metrics import (
    demand_response,
    embedded_net_import_reliance,
    market_share,
    net_import_reliance,
    prices,
    shortfall,
    usgs_net_import_reliance,
)
from rareflow.model.world import World
from rareflow.report.areas import add_area_menu, focus_areas
from rareflow.report.style import CHINA_COLOUR, base_layout, colour, year_axis
from rareflow.report.values import plot_values

PRICE_ELEMENTS: tuple[str, ...] = ("NdPr", "Dy", "Tb")
SHARE_STAGES: tuple[str, ...] = (
    "mining", "concentration", "separation", "metal", "magnet", "recycling",
)
#: Stage → the product whose reliance it measures (``metrics.reliance`` convention).
RELIANCE_STAGES: dict[str, str] = {
    "concentration": "concentrate",
    "separation": "oxide",
    "metal": "metal",
    "magnet": "magnets",
}


def _years(result: xr.Dataset) -> list[int]:
    return [int(year) for year in result["year"].values]



def price_figure(result: xr.Dataset, world: World) -> go.Figure:
    """Oxide prices inside and outside China for NdPr, Dy and Tb (USD/kg, log scale)."""
    fig = go.Figure()
    years = _years(result)
    elements = [e for e in PRICE_ELEMENTS if e in {str(x) for x in result["element"].values}]
    for i, element in enumerate(elements):
        series = prices(result, "separation", element, china=world.china)
        for market, dash, where in (("inside_china", "dot", "inside China"),
                                    ("outside_china", "solid", "outside China")):
            fig.add_trace(go.Scatter(
                x=years, y=plot_values(series.sel(market=market)), mode="lines+markers",
                name=f"{element} oxide, {where}", line={"color": colour(i), "dash": dash},
                marker={"size": 5},
                hovertemplate=f"{element} oxide {where}: %{{y:,.1f}} USD/kg<extra></extra>",
            ))
    base_layout(fig, "Oxide prices inside and outside China", x_title="year",
                y_title="price (USD/kg, log scale)")
    fig.update_yaxes(type="log", **_log_ticks(fig))
    fig.update_layout(hovermode="x unified")
    return year_axis(fig, years)


def shortfall_figure(result: xr.Dataset, world: World) -> go.Figure:
    """Shortfall and demand response by sector (defence first), world and each focus area.

    Solid lines are the shortfall (:func:`~rareflow.metrics.demand.shortfall`: demand not served
    even at the choke price, or blocked by policy); dotted lines of the same colour are the
    demand response (:func:`~rareflow.metrics.demand.demand_response`: demand given up to prices
    above the reference, negative when lower prices raise use), a separate legend entry.
    """
    regions = [str(r) for r in result["region"].values]
    areas = focus_areas(world, regions, include_world=True)
    kinds = {sector.id: sector.kind for sector in world.sectors}
    fig = go.Figure()
    years = _years(result)
    counts = []
    for area in areas:
        members = list(area.members) if area.members else None
        short = shortfall(result, members)
        response = demand_response(result, members)
        sectors = [str(s) for s in short["sector"].values]
        for series, what, dash in ((short, "shortfall", "solid"),
                                   (response, "demand response", "dot")):
            for i, sector in enumerate(sectors):
                unit = "t REO" if kinds.get(sector) == "oxide" else "t magnet"
                fig.add_trace(go.Scatter(
                    x=years, y=plot_values(series.sel(sector=sector)), mode="lines+markers",
                    name=f"{sector_label(sector)} {what} ({unit})",
                    line={"color": CHINA_COLOUR if sector == "defence" else colour(i),
                          "width": 3 if sector == "defence" else 2, "dash": dash},
                    marker={"size": 5}, legendgroup=sector,
                    hovertemplate=(f"{area.label}, {sector_label(sector)} {what}: "
                                   f"%{{y:,.0f}} {unit}<extra></extra>"),
                ))
        counts.append(2 * len(sectors))
    base_layout(fig, "Shortfalls (solid) and demand response to prices (dotted), by sector",
                x_title="year", y_title="t magnet; oxide sectors t REO")
    add_area_menu(fig, [area.label for area in areas], counts)
    return year_axis(fig, years)


def share_figure(result: xr.Dataset, world: World) -> go.Figure:
    """Share of world production at each stage held by China (or another focus area), %."""
    regions = [str(r) for r in result["region"].values]
    areas = focus_areas(world, regions, first=world.china)
    stages = [s for s in SHARE_STAGES if s in {str(x) for x in result["stage"].values}]
    shares = {stage: market_share(result, stage) for stage in stages}
    fig = go.Figure()
    years = _years(result)
    for area in areas:
        members = list(area.members or ())
        for i, stage in enumerate(stages):
            share = 100 * shares[stage].sel(region=members).sum("region", min_count=1)
            fig.add_trace(go.Scatter(
                x=years, y=plot_values(share), mode="lines+markers", name=stage,
                line={"color": colour(i)}, marker={"size": 5},
                hovertemplate=f"{area.label}, {stage}: %{{y:.1f}} %<extra></extra>",
            ))
    base_layout(fig, "Share of world production by stage", x_title="year",
                y_title="share of world production (%)")
    fig.update_yaxes(range=[0, 100.5])
    add_area_menu(fig, [area.label for area in areas], [len(stages)] * len(areas))
    return year_axis(fig, years)


#: The scope-wide reliance lines drawn after the per-product ones (docs/reliance.md).
SCOPE_LINES: tuple[str, ...] = ("compounds and metals (USGS scope)", "embedded (with magnets)")


def reliance_figure(result: xr.Dataset, world: World) -> go.Figure:
    """Net import reliance (USGS formula) for each focus area, % (net exporters at 0).

    One line per product (concentrate, oxide, metal, magnets), then the USGS compounds-and-
    metals scope and the embedded scope (:data:`SCOPE_LINES`).
    """
    regions = [str(r) for r in result["region"].values]
    areas = focus_areas(world, regions, first="USA")
    fig = go.Figure()
    years = _years(result)
    stages = _present(RELIANCE_STAGES, result)
    for area in areas:
        members = list(area.members or ())
        lines = [(RELIANCE_STAGES[stage], net_import_reliance(result, stage, members, "total"))
                 for stage in stages]
        lines += [(SCOPE_LINES[0], usgs_net_import_reliance(result, members)),
                  (SCOPE_LINES[1], embedded_net_import_reliance(result, members, "total"))]
        for i, (product, raw) in enumerate(lines):
            text = [_reliance_text(v) for v in np.asarray(raw.values, dtype=float)]
            fig.add_trace(go.Scatter(
                x=years, y=plot_values(100 * raw.clip(min=0)), mode="lines+markers", name=product,
                line={"color": colour(i)}, marker={"size": 5}, customdata=text,
                hovertemplate=f"{area.label}, {product}: %{{customdata}}<extra></extra>",
            ))
    base_layout(fig, "Net import reliance (USGS formula)", x_title="year",
                y_title="% of apparent consumption (0 = net exporter)")
    fig.update_yaxes(range=[0, 100.5])
    add_area_menu(fig, [area.label for area in areas],
                  [len(stages) + len(SCOPE_LINES)] * len(areas))
    return year_axis(fig, years)


def _log_ticks(fig: go.Figure) -> dict[str, list[float] | list[str]]:
    """Tick values 1-2-5 per decade over the figure's data, labelled in full (``2,000``)."""
    values = [v for trace in fig.data for v in (trace.y or ()) if v is not None and v > 0]
    if not values:
        return {}
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    ticks = [m * 10.0**e for e in range(low, high + 1) for m in (1, 2, 5)]
    return {"tickvals": ticks, "ticktext": [f"{t:,.4g}" if t < 1 else f"{t:,.0f}" for t in ticks]}


def sector_label(sector: str) -> str:
    """A short legend label for a sector id: ``ev`` → ``EV``, ``wind_power`` → ``wind power``."""
    return sector.upper() if len(sector) <= 2 else sector.replace("_", " ")


def _present(stages: Iterable[str], result: xr.Dataset) -> list[str]:
    have = {str(stage) for stage in result["stage"].values}
    return [stage for stage in stages if stage in have]


def _reliance_text(value: float) -> str:
    if math.isnan(value):
        return "n/a (no consumption)"
    if value < 0:
        return "E (net exporter)"
    return f"{100 * value:.0f} %"
