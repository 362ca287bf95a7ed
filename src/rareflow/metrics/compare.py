"""Side-by-side comparison of two runs, and writers for the tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from rareflow.metrics.answers import Groups, WorldLike, answers
from rareflow.metrics.demand import unmet_demand


def key_series(ds: xr.Dataset, years: Sequence[int]) -> pd.DataFrame:
    """Key world series of one run at ``years``, in the answers layout (question, value, unit).

    Rows, at every year in ``years`` that the run has: world production per stage (t REO, all
    elements and origins), world unmet demand per sector (defence first; the sector's own units)
    and total surplus (USD million).
    """
    have = {int(year) for year in ds["year"].values}
    rows: list[dict[str, Any]] = []
    for year in (y for y in years if y in have):
        production = ds["production"].sel(year=year).sum(("region", "element", "origin"))
        for stage in production["stage"].values:
            rows.append(_row(f"World {stage} production {year}",
                             float(production.sel(stage=stage)), "t REO"))
        unmet = unmet_demand(ds).sel(year=year)
        for sector in unmet["sector"].values:
            rows.append(_row(f"World unmet demand, {sector} {year}",
                             float(unmet.sel(sector=sector)), str(unmet.attrs["units"])))
        rows.append(_row(f"Total surplus {year}", float(ds["surplus"].sel(year=year)),
                         "USD million"))
    return pd.DataFrame(rows, columns=["question", "value", "unit"])


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
    join: a row only one run has keeps NaN for the other) followed by :func:`key_series`.
    ``years`` defaults to the first and last year the runs share. ``world_or_ids`` defaults to
    ``Groups()`` (China = ``CHN``, no groups). Columns: ``question``, ``unit``, ``value_<a>``,
    ``value_<b>``, ``difference``, ``answer_<a>``, ``answer_<b>`` (series rows have no answer).
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
    tables = []
    for ds, label in ((ds_a, a), (ds_b, b)):
        table = pd.concat(
            [
                answers(ds, world, years=years, **answer_options),
                key_series(ds, years),
            ],
            ignore_index=True,
        )
        renamed = {"value": f"value_{label}", "answer": f"answer_{label}"}
        tables.append(table.rename(columns=renamed))
    merged = tables[0].merge(tables[1], on=["question", "unit"], how="outer")
    order = list(dict.fromkeys([*tables[0]["question"], *tables[1]["question"]]))
    merged = merged.set_index("question").loc[order].reset_index()
    merged["difference"] = merged[f"value_{b}"] - merged[f"value_{a}"]
    columns = ["question", "unit", f"value_{a}", f"value_{b}", "difference",
               f"answer_{a}", f"answer_{b}"]
    return merged[columns]


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


def _row(question: str, value: float, unit: str) -> dict[str, Any]:
    return {"question": question, "value": value, "unit": unit}
