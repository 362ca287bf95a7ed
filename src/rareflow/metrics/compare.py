"""Side-by-side comparison of two runs, and writers for the tables."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.metrics.answers import Groups, WorldLike, answers
from rareflow.metrics.demand import demand_response, shortfall
from rareflow.metrics.prices import prices

#: Sections of a comparison, in the order an analyst reads them.
SECTIONS: Final[tuple[str, ...]] = (
    "Prices",
    "Shortfalls",
    "Demand response",
    "Self-sufficiency",
    "Market shares and concentration",
    "Import reliance and stocks",
    "Targets",
    "Recycling",
    "Fiscal cost",
    "World production and surplus",
    "Other",
)

#: (words in a question, section); the first rule whose words appear wins. Order matters:
#: "Fiscal cost of ndpr_price_floor" is a fiscal row, not a price; a policy's shortfall against
#: its own constraint is not demand left unserved.
_SECTION_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("fiscal cost", "Fiscal cost"),
    ("target:", "Targets"),
    ("policy shortfall", "Other"),
    ("shortfall", "Shortfalls"),
    ("demand response", "Demand response"),
    ("self-sufficient", "Self-sufficiency"),
    ("third-country share", "Market shares and concentration"),
    ("china share of", "Market shares and concentration"),
    ("hhi of", "Market shares and concentration"),
    ("import reliance", "Import reliance and stocks"),
    ("china-origin", "Import reliance and stocks"),
    ("stockpile cover", "Import reliance and stocks"),
    ("recycled share", "Recycling"),
    ("price", "Prices"),
    ("production", "World production and surplus"),
    ("surplus", "World production and surplus"),
)

#: Units whose differences are already the meaningful change (percentage points, years).
ABSOLUTE_UNITS: Final[frozenset[str]] = frozenset({"%", "year"})

COLUMNS: Final[tuple[str, ...]] = (
    "section", "question", "metric", "region", "year", "period", "unit", "definition",
    "value_{a}", "value_{b}", "difference", "change_pct", "answer_{a}", "answer_{b}",
)

#: The fields :func:`question_fields` reads out of a question, in :data:`COLUMNS` order.
QUESTION_FIELDS: Final[tuple[str, ...]] = ("metric", "region", "year", "period")

_TRAILING_PERIOD = re.compile(r"\s+(\d{4})(?:[–-]\d{4})?$")
_YEAR_OR_PERIOD = re.compile(r"\s+(\d{4})(?:[–-](\d{4}))?$")
_CHINA_PREFIX = "China share of "
_WORLD = "World"
#: Questions about the world as a whole that do not start with "World".
_WORLD_STEMS: Final[tuple[str, ...]] = ("HHI of ", "Total surplus")


def key_series(ds: xr.Dataset, years: Sequence[int]) -> pd.DataFrame:
    """Key world series of one run at ``years``, in the answers layout (question, value, unit).

    Rows, at every year in ``years`` that the run has: world production per stage (t REO, all
    elements and origins), world shortfall and world demand response per sector (defence first;
    the sector's own units; :func:`~rareflow.metrics.demand.shortfall`,
    :func:`~rareflow.metrics.demand.demand_response`) and total surplus (USD million).
    """
    have = {int(year) for year in ds["year"].values}
    rows: list[dict[str, Any]] = []
    for year in (y for y in years if y in have):
        production = ds["production"].sel(year=year).sum(("region", "element", "origin"))
        for stage in production["stage"].values:
            rows.append(_row(f"World {stage} production {year}",
                             float(production.sel(stage=stage)), "t REO"))
        for label, metric in (("shortfall", shortfall), ("demand response", demand_response)):
            by_sector = metric(ds).sel(year=year)
            for sector in by_sector["sector"].values:
                rows.append(_row(f"World {label}, {sector} {year}",
                                 float(by_sector.sel(sector=sector)),
                                 str(by_sector.attrs["units"])))
        rows.append(_row(f"Total surplus {year}", float(ds["surplus"].sel(year=year)),
                         "USD million"))
    return pd.DataFrame(rows, columns=["question", "value", "unit"])


def price_series(
    ds: xr.Dataset, element: str, years: Sequence[int], *, china: str = "CHN"
) -> pd.DataFrame:
    """Oxide price of ``element`` inside and outside China at ``years`` (answers layout).

    Questions read like the answers' own price rows (``"Dy oxide price outside china 2030"``);
    values from :func:`~rareflow.metrics.prices.prices`. Empty when the run lacks the element
    or China.
    """
    rows: list[dict[str, Any]] = []
    if element not in ds["element"].values or china not in ds["region"].values:
        return pd.DataFrame(rows, columns=["question", "value", "unit"])
    have = {int(year) for year in ds["year"].values}
    two_tier = prices(ds, "separation", element, china=china)
    for year in (y for y in years if y in have):
        for market in ("inside_china", "outside_china"):
            value = float(two_tier.sel(year=year, market=market))
            rows.append(_row(f"{element} oxide price {market.replace('_', ' ')} {year}", value,
                             "USD/kg"))
    return pd.DataFrame(rows, columns=["question", "value", "unit"])


def section_of(question: str) -> str:
    """The :data:`SECTIONS` entry a comparison row belongs to (``"Other"`` if none fits)."""
    text = question.lower()
    for words, section in _SECTION_RULES:
        if words in text:
            return section
    return "Other"


def question_fields(question: str, regions: Collection[str], china: str) -> dict[str, Any]:
    """The parts of a comparison question as fields: ``metric``, ``region``, ``year``, ``period``.

    ``year`` is the question's trailing year (an ``int``), ``period`` its trailing
    ``"START–END"`` span (fiscal rows); ``region`` is its leading ``World`` or one of
    ``regions`` (the answers' region and bloc), ``china`` for China's market shares, or
    ``World`` for the HHI and total surplus; the ``metric`` is what is left of the question
    without region and year (``"defence magnet shortfall"``). Fields that do not apply are
    None, so the CSV leaves them empty and the JSON writes ``null``.
    """
    match = _YEAR_OR_PERIOD.search(question)
    stem = question[:match.start()] if match else question
    year: int | None = None
    period: str | None = None
    if match and match.group(2):
        period = f"{match.group(1)}–{match.group(2)}"
    elif match:
        year = int(match.group(1))
    first, _, rest = stem.partition(" ")
    region: str | None = None
    metric = stem
    if rest and (first == _WORLD or first in regions):
        region, metric = first, rest
    elif stem.startswith(_CHINA_PREFIX):
        region, metric = china, stem[len("China "):]
    elif stem.startswith(_WORLD_STEMS):
        region = _WORLD
    return {"metric": metric, "region": region, "year": year, "period": period}


def relative_change(a: float, b: float, unit: str) -> float:
    """``100 × (b − a) / |a|`` in percent; NaN for shares and years, a zero or missing ``a``."""
    if unit in ABSOLUTE_UNITS or math.isnan(a) or math.isnan(b) or a == 0:
        return math.nan
    return 100.0 * (b - a) / abs(a)


def compare(
    ds_a: xr.Dataset,
    ds_b: xr.Dataset,
    world_or_ids: WorldLike | None = None,
    *,
    labels: tuple[str, str] = ("a", "b"),
    years: Sequence[int] | None = None,
    **answer_options: Any,
) -> pd.DataFrame:
    """Metric values of two runs side by side, with ``difference = b − a``.

    Rows: :func:`~rareflow.metrics.answers.answers` of both runs joined on ``question`` (outer
    join: a row only one run has keeps NaN for the other), the ``heavy`` element's oxide prices
    (:func:`price_series`, ``Dy`` unless ``heavy`` is passed) and :func:`key_series`; grouped by
    :data:`SECTIONS`, each metric's years together. ``years`` defaults to the first and last
    year the runs share. ``world_or_ids`` defaults to ``Groups()`` (China = ``CHN``, no groups).
    Columns: ``section``, ``question``, ``unit``, ``value_<a>``, ``value_<b>``, ``difference``,
    ``change_pct`` (:func:`relative_change`; NaN for percentages, whose difference is in
    points, and years), ``answer_<a>``, ``answer_<b>`` (series rows have no answer), after
    ``question`` its parts as :func:`question_fields` reads them: ``metric``, ``region``,
    ``year`` and ``period``, and after ``unit`` the row's ``definition`` (from the answers;
    empty for the key series).
    """
    world = world_or_ids if world_or_ids is not None else Groups()
    a, b = labels
    if a == b:
        raise ValueError("labels must differ")
    if years is None:
        in_a = {int(y) for y in ds_a["year"].values}
        shared = sorted(in_a & {int(y) for y in ds_b["year"].values})
        if not shared:
            raise ValueError("the runs share no year; pass years explicitly")
        years = sorted({shared[0], shared[-1]})
    heavy = str(answer_options.get("heavy", "Dy"))
    tables = []
    definitions: dict[str, str] = {}
    for ds, label in ((ds_a, a), (ds_b, b)):
        table = pd.concat(
            [
                answers(ds, world, years=years, **answer_options),
                price_series(ds, heavy, years, china=world.china),
                key_series(ds, years),
            ],
            ignore_index=True,
        )
        renamed = {"value": f"value_{label}", "answer": f"answer_{label}"}
        for question, definition in zip(table["question"], table["definition"].fillna(""),
                                        strict=True):
            definitions.setdefault(str(question), str(definition))
        tables.append(table.drop(columns="definition").rename(columns=renamed))
    merged = tables[0].merge(tables[1], on=["question", "unit"], how="outer")
    order = list(dict.fromkeys([*tables[0]["question"], *tables[1]["question"]]))
    merged = merged.set_index("question").loc[order].reset_index()
    merged["difference"] = merged[f"value_{b}"] - merged[f"value_{a}"]
    merged["change_pct"] = [
        relative_change(float(x), float(y), str(unit))
        for x, y, unit in zip(merged[f"value_{a}"], merged[f"value_{b}"], merged["unit"],
                              strict=True)
    ]
    merged["section"] = merged["question"].map(section_of)
    merged["definition"] = merged["question"].map(lambda q: definitions.get(str(q), ""))
    named = (answer_options.get(name, _ANSWER_DEFAULTS[name]) for name in ("region", "bloc"))
    prefixes = {str(name) for name in named if name}
    fields = [question_fields(str(q), prefixes, world.china) for q in merged["question"]]
    for name in QUESTION_FIELDS:
        merged[name] = pd.Series([row[name] for row in fields], index=merged.index, dtype=object)
    columns = [column.format(a=a, b=b) for column in COLUMNS]
    return _grouped(merged)[columns].reset_index(drop=True)


def _grouped(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by section, then by metric (first appearance; totals last), then by year."""
    stems = table["question"].str.replace(_TRAILING_PERIOD, "", regex=True)
    first = {stem: i for i, stem in reversed(list(enumerate(stems)))}
    years = table["question"].str.extract(_TRAILING_PERIOD, expand=False)
    keys = pd.DataFrame({
        "section": table["section"].map({s: i for i, s in enumerate(SECTIONS)}),
        "total": stems.str.startswith("Total "),
        "stem": stems.map(first),
        "year": pd.to_numeric(years, errors="coerce").fillna(0),
        "position": np.arange(len(table)),
    })
    ordered = keys.sort_values(["section", "total", "stem", "year", "position"]).index
    return table.loc[ordered]


def to_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a metrics table as UTF-8 CSV without the index; NaN as an empty field."""
    target = Path(path)
    table.to_csv(target, index=False)
    return target


def to_json(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a metrics table as a JSON array of records (NaN → ``null``)."""
    target = Path(path)
    table.to_json(target, orient="records", force_ascii=False, indent=2)
    return target


#: The defaults of :func:`~rareflow.metrics.answers.answers`' keyword options.
_ANSWER_DEFAULTS: Final[dict[str, Any]] = {
    name: parameter.default for name, parameter in inspect.signature(answers).parameters.items()
}


def _row(question: str, value: float, unit: str) -> dict[str, Any]:
    return {"question": question, "value": value, "unit": unit}
