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

#: Headline numbers shown as cards: key, label, question in the answers table ({year} = the
#: run's last year), and whether a higher value is better for the importing side.
HEADLINES: tuple[tuple[str, str, str, bool], ...] = (
    ("price_outside", "NdPr oxide price outside China", "NdPr oxide price outside china {year}",
     False),
    ("magnet_reliance", "US import reliance, magnets", "USA import reliance for magnets {year}",
     False),
    ("china_separation", "China share of separation", "China share of separation {year}", False),
    ("defence_shortfall", "US defence magnet shortfall",
     "USA defence magnet shortfall {year}", False),
    ("defence_demand_response", "US defence magnet demand given up to high prices",
     "USA defence magnet demand response {year}", False),
    ("recycled", "US recycled share of oxide use",
     "USA recycled share of oxide consumption {year}", True),
)
FISCAL_PREFIX = "Total fiscal cost"


def run_summary(info: RunInfo) -> dict[str, Any]:
    """What the past-runs list shows about a stored run (no scenario text, no results)."""
    params = info.params
    years = params.get("years")
    return {
        "run_id": info.run_id,
        "kind": info.kind,
        "status": info.status,
        "scenario": info.scenario_name,
        "base_scenario": params.get("base_scenario", info.scenario_name),
        "changes": list(params.get("changes", [])),
        "levers": params.get("levers"),
        "years": list(years) if isinstance(years, list) else None,
        "created_at": info.created_at.isoformat(),
        "openable": info.kind == "single" and info.status == "complete",
    }


def answer_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Answers-table rows as JSON-ready dicts (NaN as None)."""
    return [
        {str(key): _plain(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]


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
    summary: dict[str, Any], result: xr.Dataset, world: World, *, year: int | None = None
) -> dict[str, Any]:
    """Everything the page shows for one run: summary, answers, headline numbers and charts."""
    years = [int(y) for y in result["year"].values]
    frame = answers(result, world)
    return {
        "run": summary,
        "years": years,
        "answers": answer_records(frame),
        "headline": headline(frame, years[-1]),
        "figures": figures_json(result, world, year=year),
    }


def figures_json(result: xr.Dataset, world: World, *, year: int | None = None) -> dict[str, Any]:
    """The report's charts for one run as Plotly figure JSON, by chart id."""
    import plotly.io

    from rareflow.report.figures import result_figures

    figures = result_figures(result, world, year=year)
    return {key: json.loads(plotly.io.to_json(fig, validate=False))
            for key, fig in figures.items()}


def compare_view(
    a: dict[str, Any], ds_a: xr.Dataset, b: dict[str, Any], ds_b: xr.Dataset, world: World
) -> dict[str, Any]:
    """Two runs side by side (:func:`rareflow.metrics.compare`), ``difference = b - a``."""
    table = compare(ds_a, ds_b, world, labels=("a", "b"))
    return {"a": a, "b": b, "rows": answer_records(table)}


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numpy numbers as Python ones, NaN and infinities as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
