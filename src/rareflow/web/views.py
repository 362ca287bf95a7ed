"""JSON views of runs for the dashboard: run summaries, answers, headline numbers, charts.

The charts are the report's own (:func:`rareflow.report.figures.result_figures`), sent as Plotly
figure JSON so the page draws exactly what the HTML report shows.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import xarray as xr

from rareflow.metrics import answers, compare
from rareflow.model.world import World
from rareflow.store.runs import RunInfo
from rareflow.web.names import Wording, scenario_title

#: Headline numbers shown as cards: key, label, question in the answers table ({year} = the
#: run's last year), and whether a higher value is better for the importing side.
HEADLINES: tuple[tuple[str, str, str, bool], ...] = (
    ("price_outside", "NdPr oxide price outside China", "NdPr oxide price outside china {year}",
     False),
    ("magnet_reliance", "US import reliance, magnets", "USA import reliance for magnets {year}",
     False),
    ("compounds_reliance", "US import reliance, compounds and metals (USGS scope)",
     "USA import reliance for compounds and metals {year}", False),
    ("china_separation", "China share of separation", "China share of separation {year}", False),
    ("defence_shortfall", "US defence magnet shortfall",
     "USA defence magnet shortfall {year}", False),
    ("defence_demand_response", "US defence magnet demand given up to high prices",
     "USA defence magnet demand response {year}", False),
    ("recycled", "US recycled share of oxide use",
     "USA recycled share of oxide consumption {year}", True),
)
FISCAL_PREFIX = "Total fiscal cost"
#: USGS writes a net exporter's import reliance as "E"; the page says it in words.
NET_EXPORTER = ("E (net exporter)", "net exporter")
NO_WORDING = Wording({})


def run_summary(info: RunInfo, wording: Wording = NO_WORDING) -> dict[str, Any]:
    """What the past-runs list shows about a stored run (no scenario text, no results).

    ``title``, ``base_title`` and ``changes_in_words`` are for people; the ids stay alongside
    them for tooltips and links.
    """
    params = info.params
    years = params.get("years")
    base = params.get("base_scenario", info.scenario_name)
    changes = [str(change) for change in params.get("changes", [])]
    return {
        "run_id": info.run_id,
        "kind": info.kind,
        "status": info.status,
        "scenario": info.scenario_name,
        "title": scenario_title(info.scenario_name),
        "base_scenario": base,
        "base_title": scenario_title(base),
        "changes": changes,
        "changes_in_words": [wording(change) for change in changes],
        "levers": params.get("levers"),
        "years": list(years) if isinstance(years, list) else None,
        "created_at": info.created_at.isoformat(),
        "openable": info.kind == "single" and info.status == "complete",
    }


def answer_records(frame: pd.DataFrame, wording: Wording = NO_WORDING) -> list[dict[str, Any]]:
    """Answers-table rows as JSON-ready dicts (NaN as None), ids in the text put in words.

    ``question`` keeps the metric's own wording (ids and all) for matching; ``label`` is what
    the page shows.
    """
    records = []
    for row in frame.to_dict(orient="records"):
        record = {str(key): _plain(value) for key, value in row.items()}
        record["label"] = wording(str(record.get("question", "")))
        for key in ("answer", "answer_a", "answer_b"):
            if isinstance(record.get(key), str):
                record[key] = record[key].replace(*NET_EXPORTER)
        records.append(record)
    return records


def headline(frame: pd.DataFrame, year: int) -> list[dict[str, Any]]:
    """The headline numbers of a run at ``year`` (rows missing from the answers are left out)."""
    by_question = {str(row.question): row for row in frame.itertuples()}
    cards = []
    wanted = [(key, label, question.format(year=year), up) for key, label, question, up
              in HEADLINES]
    fiscal = [q for q in by_question if q.startswith(FISCAL_PREFIX)]
    if fiscal:
        wanted.append(("fiscal_cost", "Total fiscal cost of policies", fiscal[0], False))
    for key, label, question, higher_is_better in wanted:
        row = by_question.get(question)
        if row is None:
            continue
        cards.append({
            "key": key, "label": f"{label} ({year})" if key != "fiscal_cost" else label,
            "question": question, "answer": str(row.answer), "value": _plain(row.value),
            "unit": str(row.unit), "higher_is_better": higher_is_better,
        })
    return cards


def result_view(
    summary: dict[str, Any], result: xr.Dataset, world: World, *, year: int | None = None,
    wording: Wording = NO_WORDING, element: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one run: summary, answers, headline numbers and charts.

    ``year`` and ``element`` choose the Sankey's year (default: the last) and element (default:
    all of them together).
    """
    years = [int(y) for y in result["year"].values]
    frame = answers(result, world)
    return {
        "run": summary,
        "years": years,
        "elements": result_elements(result),
        "answers": answer_records(frame, wording),
        "headline": headline(frame, years[-1]),
        "figures": figures_json(result, world, year=year, element=element),
    }


def result_elements(result: xr.Dataset) -> list[str]:
    """The elements a run's flows cover, in the result's order."""
    return [str(e) for e in result["element"].values] if "element" in result.dims else []


def figures_json(
    result: xr.Dataset, world: World, *, year: int | None = None, element: str | None = None
) -> dict[str, Any]:
    """The report's charts for one run as Plotly figure JSON, by chart id.

    With ``element`` the Sankey shows that element's flows only (the other charts are as ever).
    """
    import plotly.io

    from rareflow.report.figures import result_figures
    from rareflow.report.sankey import sankey_figure, sankey_flows

    figures = result_figures(result, world, year=year)
    if element is not None:
        chosen = max(int(y) for y in result["year"].values) if year is None else year
        sankey = sankey_figure(sankey_flows(result.sel(element=[element]), world, chosen))
        title = str(sankey.layout.title.text).replace("all elements", f"{element} only")
        sankey.update_layout(title_text=title)
        figures["sankey"] = sankey
    return {key: json.loads(plotly.io.to_json(fig, validate=False))
            for key, fig in figures.items()}


def compare_table(ds_a: xr.Dataset, ds_b: xr.Dataset, world: World) -> pd.DataFrame:
    """:func:`rareflow.metrics.compare` of two runs over every year they share (``b - a``)."""
    shared = sorted({int(y) for y in ds_a["year"].values} & {int(y) for y in ds_b["year"].values})
    if not shared:
        raise ValueError("the runs share no year")
    return compare(ds_a, ds_b, world, labels=("a", "b"), years=shared)


def compare_view(
    a: dict[str, Any], ds_a: xr.Dataset, b: dict[str, Any], ds_b: xr.Dataset, world: World,
    wording: Wording = NO_WORDING,
) -> dict[str, Any]:
    """Two runs side by side over all shared years, ``difference = b - a``.

    ``rows`` are :func:`compare_table`'s rows; ``series`` groups the yearly rows of each metric
    (one line per run and the difference, by year) for the page's A/B charts.
    """
    table = compare_table(ds_a, ds_b, world)
    rows = answer_records(table, wording)
    series: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("year") is None:
            continue
        key = (str(row["section"]), str(row["metric"]), str(row.get("region") or ""),
               str(row["unit"]))
        if key not in series:
            name = f"{key[2]} {key[1]}".strip()
            series[key] = {"section": key[0], "metric": key[1], "region": key[2] or None,
                           "unit": key[3], "label": wording(name), "name": name,
                           "years": [], "a": [], "b": [], "difference": []}
        entry = series[key]
        entry["years"].append(int(row["year"]))
        entry["a"].append(row["value_a"])
        entry["b"].append(row["value_b"])
        entry["difference"].append(row["difference"])
    years = sorted({year for entry in series.values() for year in entry["years"]})
    return {"a": a, "b": b, "years": years, "rows": rows, "series": list(series.values())}


#: Columns of the comparison CSV, in order.
CSV_COLUMNS = ("section", "question", "metric", "region", "year", "period", "unit",
               "value_a", "value_b", "difference")


def compare_csv(table: pd.DataFrame, run_a: str, run_b: str) -> str:
    """The comparison as CSV: one row per metric and year, full precision, ``b - a``.

    Two comment lines name the runs; empty cells are values a run does not have.
    """
    header = f"# A = run {run_a}\n# B = run {run_b}\n"
    frame = table.loc[:, list(CSV_COLUMNS)].copy()
    frame["year"] = frame["year"].astype("Int64")
    return header + frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numpy numbers as Python ones, NaN and infinities as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
