"""Ensemble figures from an ensemble summary: fan charts and self-sufficiency probabilities.

The summary contract (built by ``rareflow.runs.ensemble.summary.ensemble_summary``): coords ``year``
(int), ``percentile`` (5, 25, 50, 75, 95), ``series`` (labels) and ``target`` (labels); data
vars ``fan`` (series, percentile, year) with a ``unit`` coord along ``series``, and
``sufficiency_probability`` (target, year) in [0, 1]; attrs ``run_id``, ``scenario_name``,
``n_draws``, ``n_done``, ``n_failed``, ``seed``.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go
import xarray as xr

from rareflow.report.style import base_layout, colour, with_alpha, year_axis
from rareflow.report.values import plot_values

#: (outer low, inner low, median, inner high, outer high) percentiles a fan chart draws.
FAN_PERCENTILES: tuple[float, float, float, float, float] = (5, 25, 50, 75, 95)


def slug(label: str) -> str:
    """A stable id fragment from a label: lower case, runs of other characters as ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "series"



def fan_figure(summary: xr.Dataset, series: str, index: int = 0) -> go.Figure:
    """Fan chart of one ``series``: 5–95 and 25–75 percentile bands and the median."""
    fan = summary["fan"].sel(series=series)
    unit = str(fan["unit"].values) if "unit" in fan.coords else ""
    years = [int(year) for year in summary["year"].values]
    have = {float(p) for p in summary["percentile"].values}
    missing = [p for p in FAN_PERCENTILES if p not in have]
    if missing:
        raise ValueError(f"ensemble summary lacks percentile(s) {missing} for fan charts")
    low, inner_low, median, inner_high, high = (
        plot_values(fan.sel(percentile=p)) for p in FAN_PERCENTILES
    )
    base = colour(index)
    fig = go.Figure()
    for upper, lower, name, alpha in ((high, low, "5–95th percentile", 0.18),
                                      (inner_high, inner_low, "25–75th percentile", 0.35)):
        fig.add_trace(go.Scatter(x=years, y=upper, mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(
            x=years, y=lower, mode="lines", line={"width": 0}, fill="tonexty",
            fillcolor=with_alpha(base, alpha), name=name, legendgroup=name, hoverinfo="skip",
        ))
    fig.add_trace(go.Scatter(
        x=years, y=median, mode="lines+markers", name="median", line={"color": base, "width": 2.5},
        marker={"size": 5},
        customdata=[list(band) for band in zip(low, inner_low, inner_high, high, strict=True)],
        hovertemplate=(f"median %{{y:,.4g}} {unit}<br>25–75 %: %{{customdata[1]:,.4g}}–"
                       f"%{{customdata[2]:,.4g}}<br>5–95 %: %{{customdata[0]:,.4g}}–"
                       "%{customdata[3]:,.4g}<extra></extra>"),
    ))
    base_layout(fig, f"{series} (ensemble)", x_title="year", y_title=unit or "value",
                height=420)
    fig.update_layout(hovermode="x", legend={"y": -0.2}, margin={"b": 80})
    return year_axis(fig, years)


def sufficiency_figure(summary: xr.Dataset) -> go.Figure:
    """Probability, across draws, of being self-sufficient by each year, per target (%)."""
    probability = summary["sufficiency_probability"]
    years = [int(year) for year in summary["year"].values]
    fig = go.Figure()
    for i, target in enumerate(str(t) for t in probability["target"].values):
        fig.add_trace(go.Scatter(
            x=years, y=plot_values(100 * probability.sel(target=target)), mode="lines+markers",
            name=target, line={"color": colour(i), "shape": "hv"}, marker={"size": 6},
            hovertemplate=f"{target}: %{{y:.0f}} % of draws by %{{x}}<extra></extra>",
        ))
    base_layout(fig, "Probability of self-sufficiency by year", x_title="year",
                y_title="share of draws self-sufficient (%)")
    fig.update_yaxes(range=[0, 100.5])
    return year_axis(fig, years)


def check_summary(summary: xr.Dataset) -> None:
    """Raise ``ValueError`` naming what ``summary`` lacks of the ensemble summary contract."""
    problems = [f"variable {name!r}" for name in ("fan", "sufficiency_probability")
                if name not in summary.data_vars]
    problems += [f"coord {name!r}" for name in ("year", "percentile", "series", "target")
                 if name not in summary.coords]
    if problems:
        raise ValueError("not an ensemble summary: it lacks " + ", ".join(problems))
