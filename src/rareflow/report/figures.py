"""Public entry to the report's charts, shared by ``rareflow report`` and ``rareflow serve``.

Both functions return an ordered ``{chart id: plotly Figure}``; every figure has a title, axis
titles with units, and needs nothing outside the figure JSON to draw (no network).

>>> figures = result_figures(result, load_world(), year=2030)
>>> list(figures)
['sankey', 'prices', 'shortfalls', 'shares', 'reliance']
"""

from __future__ import annotations

import plotly.graph_objects as go
import xarray as xr

from rareflow.model.world import World
from rareflow.report.fans import check_summary, fan_figure, slug, sufficiency_figure
from rareflow.report.sankey import sankey_figure, sankey_flows
from rareflow.report.series import price_figure, reliance_figure, share_figure, shortfall_figure

#: Chart ids of :func:`result_figures`, in order, with their section headings.
RESULT_CHARTS: dict[str, str] = {
    "sankey": "Material flows",
    "prices": "Prices",
    "shortfalls": "Shortfalls and demand response",
    "shares": "Shares of production",
    "reliance": "Import reliance",
}
#: Chart id of the self-sufficiency probability curve in :func:`ensemble_figures`.
SUFFICIENCY_CHART = "sufficiency"


def result_years(result: xr.Dataset) -> list[int]:
    """The years a result covers, ascending."""
    return sorted(int(year) for year in result["year"].values)


def result_figures(
    result: xr.Dataset, world: World, *, year: int | None = None
) -> dict[str, go.Figure]:
    """Charts of one run: ``sankey``, ``prices``, ``shortfalls``, ``shares``, ``reliance``.

    ``sankey`` shows the flows of ``year`` (default: the last); the others are time series over
    the run's years.

    ``result`` follows ``docs/results.md`` without a ``draw`` dim (select one draw of an
    ensemble first). Raises ``ValueError`` when ``year`` is not one of the result's years.
    """
    if "draw" in result.dims:
        raise ValueError("result_figures takes one run; select a draw of the ensemble first")
    years = result_years(result)
    chosen = years[-1] if year is None else int(year)
    if chosen not in years:
        raise ValueError(f"year {chosen} is not in the result (it covers {years[0]}–{years[-1]})")
    return {
        "sankey": sankey_figure(sankey_flows(result, world, chosen)),
        "prices": price_figure(result, world),
        "shortfalls": shortfall_figure(result, world),
        "shares": share_figure(result, world),
        "reliance": reliance_figure(result, world),
    }


def ensemble_figures(summary: xr.Dataset) -> dict[str, go.Figure]:
    """Charts of an ensemble summary: one fan chart per series, then ``sufficiency``.

    Fan charts are keyed ``fan-<series slug>`` in series order; ``sufficiency`` is the
    probability of self-sufficiency by year, one line per target.

    ``summary`` follows the contract of :mod:`rareflow.report.fans`.
    """
    check_summary(summary)
    figures: dict[str, go.Figure] = {}
    for index, series in enumerate(str(s) for s in summary["series"].values):
        key = f"fan-{slug(series)}"
        while key in figures:
            key += "-"
        figures[key] = fan_figure(summary, series, index)
    figures[SUFFICIENCY_CHART] = sufficiency_figure(summary)
    return figures
