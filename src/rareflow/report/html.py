"""One self-contained HTML report of a run: header, answers, charts, ensemble, provenance.

Everything the page needs is inside the file: the stylesheet, plotly.js (from the ``plotly``
wheel) and each figure's JSON, so it opens offline and loads nothing from the network. Every
text taken from the run (scenario name and YAML, answers, labels) is escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import xarray as xr
from plotly.offline import get_plotlyjs

from rareflow.metrics import answers
from rareflow.model.world import World
from rareflow.report.figures import (
    RESULT_CHARTS,
    SUFFICIENCY_CHART,
    ensemble_figures,
    result_figures,
    result_years,
)
from rareflow.report.provenance import ReportMeta, distinct_sources, source_counts
from rareflow.version import __version__

#: What each chart shows and how to read it (shown under its heading).
CHART_NOTES: dict[str, str] = {
    "sankey": (
        "Tonnes of rare-earth oxide equivalent moving from mines through concentration, "
        "separation, metal making and magnet making to end use, plus recycling, stocks and "
        "processing losses. Shipments between regions are traced from the plant that made the "
        "material to the one that used it, taking each region's stock of a product as well "
        "mixed. Hover over a band for its tonnage."
    ),
    "prices": (
        "Oxide prices are the duals of the market's balance constraints. Export controls open a "
        "gap between the price inside China and the consumption-weighted price outside it."
    ),
    "shortfalls": (
        "Solid lines: the shortfall, demand that could not be served even at the choke price "
        "or that policy kept from any supply. Dotted lines: the demand response, demand given "
        "up because prices are above the reference price (below zero when lower prices raise "
        "use); it is not a shortfall. By sector, defence in red; magnet sectors in tonnes of "
        "magnet, oxide sectors in t REO. Use the menu to switch between the world and a region "
        "or bloc."
    ),
    "shares": (
        "Each stage's production held by a region or bloc (China first; use the menu to switch)."
    ),
    "reliance": (
        "Net imports as a share of apparent consumption (production + imports − exports + stock "
        "release), the USGS formula, per product (oxide, metal, magnets), on the USGS scope of "
        "compounds and metals (separated oxide + metal as one material, what the USGS Mineral "
        "Commodity Summaries publish) and embedded (also counting the rare earths inside "
        "imported magnets). Net exporters are drawn at 0 and marked E on hover."
    ),
}

_YEAR_SUFFIX = re.compile(r"^(?P<stem>.*\S)\s+(?P<year>(?:19|20|21)\d{2})$")

_PLOTLY_CONFIG: dict[str, object] = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

_BOOT_SCRIPT = """
(function () {
  var config = %s;
  var nodes = document.querySelectorAll("script.figure-data");
  for (var i = 0; i < nodes.length; i++) {
    var fig = JSON.parse(nodes[i].textContent);
    var target = document.getElementById(nodes[i].getAttribute("data-target"));
    Plotly.newPlot(target, fig.data, fig.layout || {}, config);
  }
  function resizeAll() {
    var charts = document.querySelectorAll(".js-plotly-plot");
    for (var j = 0; j < charts.length; j++) { Plotly.Plots.resize(charts[j]); }
  }
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) { print.addEventListener("change", resizeAll); }
  }
  window.addEventListener("beforeprint", resizeAll);
})();
"""


def figure_json(fig: go.Figure) -> str:
    """A figure's JSON, safe to place inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so no label can close the element or
    start markup; the text still parses to the same figure.
    """
    text = str(fig.to_json())
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def render_report(
    result: xr.Dataset,
    world: World,
    meta: ReportMeta,
    *,
    summary: xr.Dataset | None = None,
    year: int | None = None,
    created: datetime | None = None,
) -> str:
    """The report of one run as a complete, self-contained HTML page.

    ``result`` is one run (no ``draw`` dim; for an ensemble, the draw named in ``meta.draw``);
    ``summary`` adds the ensemble section (fan charts, self-sufficiency probability); ``year``
    picks the Sankey year (default: the last). Raises ``ValueError`` for a year outside the run.
    """
    when = created or datetime.now(UTC)
    years = result_years(result)
    charts = result_figures(result, world, year=year)
    extra = ensemble_figures(summary) if summary is not None else {}
    sankey_year = years[-1] if year is None else int(year)
    sections: list[tuple[str, str, str]] = [("answers", "Answers", _answers_section(
        answers(result, world), meta))]
    for key, figure in charts.items():
        title = RESULT_CHARTS[key]
        if key == "sankey":
            title = f"{title}, {sankey_year}"
        sections.append((key, title, _chart_section(key, figure, CHART_NOTES.get(key, ""))))
    if summary is not None:
        sections.append(("ensemble", "Ensemble", _ensemble_section(summary, extra)))
    sections.append(("provenance", "Scenario and data", _provenance_section(meta, world)))
    body = "\n".join(
        f'<section id="{escape(key)}">\n<h2>{escape(title)}</h2>\n{content}\n</section>'
        for key, title, content in sections
    )
    toc = "".join(
        f'<li><a href="#{escape(key)}">{escape(title)}</a></li>' for key, title, _ in sections
    )
    return _PAGE.format(
        title=escape(f"{meta.scenario_name} — rareflow report"),
        css=_stylesheet(),
        plotly_js=get_plotlyjs(),
        header=_header(meta, years, sankey_year, when),
        toc=toc,
        body=body,
        footer=escape(
            f"Generated by rareflow {__version__} on {when:%Y-%m-%d %H:%M} UTC. "
            "Charts drawn with plotly.js, embedded in this file; no network is needed."
        ),
        boot=_BOOT_SCRIPT % json.dumps(_PLOTLY_CONFIG),
    )


def write_report(
    path: Path | str,
    result: xr.Dataset,
    world: World,
    meta: ReportMeta,
    *,
    summary: xr.Dataset | None = None,
    year: int | None = None,
) -> Path:
    """Render the report (see :func:`render_report`) and write it to ``path`` as UTF-8."""
    target = Path(path)
    html_text = render_report(result, world, meta, summary=summary, year=year)
    target.write_text(html_text, encoding="utf-8")
    return target


# -- sections ---------------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rareflow">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header class="top"><div class="wrap">
{header}
</div></header>
<div class="wrap">
<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>
<main>
{body}
</main>
<footer>{footer}</footer>
</div>
<script>
{plotly_js}
</script>
<script>
{boot}
</script>
</body>
</html>
"""


def _stylesheet() -> str:
    return resources.files("rareflow.report").joinpath("templates/report.css").read_text(
        encoding="utf-8"
    )


def _header(meta: ReportMeta, years: Sequence[int], sankey_year: int, when: datetime) -> str:
    fields: list[tuple[str, str]] = [
        ("Run", meta.run_id or "not stored"),
        ("Years", f"{years[0]}–{years[-1]}"),
        ("Data version", meta.data_version or "unknown"),
        ("Code version", meta.code_version or "unknown"),
        ("Seed", "—" if meta.seed is None else str(meta.seed)),
    ]
    if meta.kind == "ensemble":
        fields.append(("Draws", f"{meta.n_done} done, {meta.n_failed} failed of {meta.n_draws}"))
    if meta.run_created is not None:
        fields.append(("Run created", f"{meta.run_created:%Y-%m-%d %H:%M} UTC"))
    fields.append(("Report created", f"{when:%Y-%m-%d %H:%M} UTC"))
    items = "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in fields
    )
    kind = "Ensemble report" if meta.kind == "ensemble" else "Run report"
    lede = (f"Supply-chain results of scenario {meta.scenario_name}, {years[0]}–{years[-1]}; "
            f"material flows shown for {sankey_year}.")
    return (f'<p class="kicker">rareflow · {escape(kind)}</p>\n'
            f"<h1>{escape(meta.scenario_name)}</h1>\n"
            f'<p class="lede">{escape(lede)}</p>\n<dl class="meta">{items}</dl>')


def answer_grid(frame: pd.DataFrame) -> tuple[list[int], list[tuple[str, dict[int, str]]]]:
    """The answers table pivoted for reading: one row per question, one column per year.

    A question ending in a year (``"China share of mining 2030"``) goes to that year's column
    under its stem; any other question keeps one answer under the key 0 (all years).
    """
    years: set[int] = set()
    rows: dict[str, dict[int, str]] = {}
    for question, answer in zip(frame["question"], frame["answer"], strict=True):
        match = _YEAR_SUFFIX.match(str(question))
        stem, year = (match["stem"], int(match["year"])) if match else (str(question), 0)
        if year:
            years.add(year)
        rows.setdefault(stem, {})[year] = str(answer)
    return sorted(years), list(rows.items())


def answer_definitions(frame: pd.DataFrame) -> dict[str, str]:
    """The metric definition of each answer row, by question stem (see :func:`answer_grid`)."""
    if "definition" not in frame.columns:
        return {}
    found: dict[str, str] = {}
    for question, definition in zip(frame["question"], frame["definition"], strict=True):
        match = _YEAR_SUFFIX.match(str(question))
        found.setdefault(match["stem"] if match else str(question), str(definition))
    return found


def _answers_section(frame: pd.DataFrame, meta: ReportMeta) -> str:
    note = "Plain-language answers of the run, one per question."
    if meta.kind == "ensemble" and meta.draw is not None:
        note += (f" For this ensemble they are those of draw {meta.draw}; the Ensemble section "
                 "shows the spread across draws.")
    years, rows = answer_grid(frame)
    definitions = answer_definitions(frame)
    head = "".join(f'<th>{year}</th>' for year in years) or "<th>answer</th>"
    body = []
    for stem, cells in rows:
        if 0 in cells:
            span = max(len(years), 1)
            values = f'<td class="answer" colspan="{span}">{escape(cells[0])}</td>'
        else:
            values = "".join(
                f'<td class="answer">{escape(cells.get(year, "—"))}</td>' for year in years
            )
        definition = escape(definitions.get(stem, ""))
        body.append(f'<tr><td>{escape(stem)}</td>{values}<td class="definition">{definition}'
                    "</td></tr>")
    return (f'<p class="note">{escape(note)}</p>\n<table class="answers"><thead><tr>'
            f"<th>question</th>{head}<th>definition</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _chart_section(key: str, figure: go.Figure, note: str) -> str:
    return (f'<p class="note">{escape(note)}</p>\n' if note else "") + _chart(key, figure)


def _chart(key: str, figure: go.Figure) -> str:
    div_id = f"chart-{key}"
    return (f'<div class="chart" id="{escape(div_id)}"></div>\n'
            f'<script type="application/json" class="figure-data" '
            f'data-target="{escape(div_id)}">{figure_json(figure)}</script>')


def _ensemble_section(summary: xr.Dataset, figures: Mapping[str, go.Figure]) -> str:
    attrs = summary.attrs
    counts = (f"{attrs.get('n_done', '?')} of {attrs.get('n_draws', '?')} draws done, "
              f"{attrs.get('n_failed', 0)} failed (seed {attrs.get('seed', '?')}).")
    note = ("Fan charts show the median and the 25–75th and 5–95th percentiles across draws; "
            "the last chart gives, for each target, the share of draws that are self-sufficient "
            "by each year and stay so. " + counts)
    fans = "\n".join(
        f"<div>{_chart(key, fig)}</div>" for key, fig in figures.items()
        if key != SUFFICIENCY_CHART
    )
    parts = [f'<p class="note">{escape(note)}</p>', f'<div class="grid">{fans}</div>']
    if SUFFICIENCY_CHART in figures:
        parts.append("<h3>Self-sufficiency probability</h3>")
        parts.append(_chart(SUFFICIENCY_CHART, figures[SUFFICIENCY_CHART]))
        parts.append(_sufficiency_table(summary))
    return "\n".join(parts)


def _sufficiency_table(summary: xr.Dataset) -> str:
    """Per target: probability of self-sufficiency by the last year, and the median year."""
    probability = summary["sufficiency_probability"]
    last = int(summary["year"].values.max())
    median = summary.get("sufficiency_year_median")
    rows = []
    for target in (str(t) for t in probability["target"].values):
        chance = float(probability.sel(target=target, year=last))
        year = float(median.sel(target=target)) if median is not None else float("nan")
        when = f"{year:.0f}" if year == year else f"not before {last} in most draws"
        rows.append(f"<tr><td>{escape(target)}</td><td class=\"num\">{100 * chance:.0f} %</td>"
                    f"<td>{escape(when) if median is not None else '—'}</td></tr>")
    return ('<table class="sufficiency"><thead><tr><th>target</th>'
            f'<th class="num">probability by {last}</th><th>median first year</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _provenance_section(meta: ReportMeta, world: World) -> str:
    parts = []
    loaded = f"{world.provenance.name} {world.provenance.version}"
    same = (meta.data_version in (loaded, world.provenance.version)
            or meta.data_version.startswith(f"{loaded} ("))  # ensembles add a content hash
    if meta.data_version and not same:
        parts.append(
            f'<p class="warn">The run used data version {escape(meta.data_version)}, but the '
            f"sources below are those of {escape(loaded)} (pass the run's "
            "data overrides with --data to list them).</p>"
        )
    run_fields = [
        ("Scenario", meta.scenario_name),
        ("Run id", meta.run_id or "not stored"),
        ("Kind", meta.kind),
        ("Read from", meta.origin or "memory"),
        ("Data", f"{world.provenance.name} {world.provenance.version} "
                 f"(base year {world.provenance.base_year})"),
        ("Code version", meta.code_version or "unknown"),
    ]
    if meta.params:
        run_fields.append(("Parameters", json.dumps(meta.params, sort_keys=True)))
    parts.append('<dl class="meta">' + "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>"
        for label, value in run_fields) + "</dl>")
    parts.append("<h3>Scenario definition</h3>")
    if meta.scenario_text:
        parts.append(f'<pre class="yaml">{escape(meta.scenario_text)}</pre>')
    else:
        parts.append('<p class="note">The scenario text was not stored with this result.</p>')
    counts = source_counts(world)
    rows = "".join(
        f"<tr><td>{escape(c.file)}</td><td class=\"num\">{c.records}</td>"
        f"<td class=\"num\">{c.cited}</td><td class=\"num\">{c.assumed}</td></tr>"
        for c in counts
    )
    total = [sum(c.records for c in counts), sum(c.cited for c in counts),
             sum(c.assumed for c in counts)]
    parts.append("<h3>Data sources</h3>")
    parts.append(
        f'<p class="note">Every record of the world data cites a source or states the '
        f"assumption behind it: {total[1]} of {total[0]} records cite one of "
        f"{distinct_sources(world)} distinct sources (see docs/data-sources.md in the "
        "rareflow repository).</p>"
    )
    parts.append(
        '<table class="sources"><thead><tr><th>data file</th><th class="num">records</th>'
        '<th class="num">cite a source</th><th class="num">assumption only</th></tr></thead>'
        f"<tbody>{rows}</tbody><tfoot><tr><td><strong>total</strong></td>"
        + "".join(f'<td class="num"><strong>{n}</strong></td>' for n in total)
        + "</tr></tfoot></table>"
    )
    return "\n".join(parts)
