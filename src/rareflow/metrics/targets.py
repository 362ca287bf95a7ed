"""Stated targets, checked per year: the US reliance goal and the EU CRMA 2030 benchmarks.

Each target is a metric, a comparison and a threshold, with the year it is due by and the
publication that states it. :func:`target_checks` reports every target in every year of a run
as met or missed, so progress before the due year shows too.

* **US: net import reliance below 50 % by 2030.** A 2025 policy goal of the US administration
  (reported by Discovery Alert, "Achieving Rare Earth Supply Chain Independence: Global
  Strategies", 2025, and quoted in the source analyses; we did not find the primary statement).
  Checked on two definitions: the USGS compounds-and-metals scope
  (:func:`~rareflow.metrics.reliance.usgs_net_import_reliance`, the one MCS publishes) and the
  embedded-content scope (:func:`~rareflow.metrics.reliance.embedded_net_import_reliance`,
  counting the rare earths inside imported magnets).
* **EU CRMA benchmarks** (Regulation (EU) 2024/1252, Art. 5(1), by 2030, against the Union's
  annual consumption; :func:`~rareflow.metrics.crma.crma_compliance`): extraction ≥ 10 %,
  processing ≥ 40 %, recycling ≥ 25 %, and at most 65 % from any single third country at each
  stage (mining, separation, metal, magnet), shares traced by origin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, Literal

import pandas as pd
import xarray as xr

from rareflow.metrics.crma import (
    EXTRACTION_BENCHMARK,
    PROCESSING_BENCHMARK,
    RECYCLING_BENCHMARK,
    SINGLE_COUNTRY_CAP,
    crma_compliance,
)
from rareflow.metrics.definitions import DEF_EMBEDDED, DEF_TRACED, DEF_USGS
from rareflow.metrics.reliance import embedded_net_import_reliance, usgs_net_import_reliance

#: The US goal: net import reliance below this share.
US_RELIANCE_TARGET: Final[float] = 0.5
#: The year the stated targets are due by.
TARGET_YEAR: Final[int] = 2030
US_SOURCE: Final[str] = (
    "US administration policy goal (2025) as reported by Discovery Alert, 'Achieving Rare Earth "
    "Supply Chain Independence: Global Strategies' (2025)")
CRMA_SOURCE: Final[str] = "Regulation (EU) 2024/1252 (Critical Raw Materials Act), Art. 5(1)"
#: Stages the CRMA single-country cap is checked at ("any relevant stage of processing").
CAP_STAGES: Final[tuple[str, ...]] = ("mining", "separation", "metal", "magnet")
COLUMNS: Final[tuple[str, ...]] = (
    "target", "region", "year", "value", "comparison", "threshold", "met", "due", "definition",
    "note", "source")

Comparison = Literal["<", "≤", "≥"]


@dataclass(frozen=True)
class TargetValue:
    """One target's yearly values: ``value`` (fraction, dim year) and a ``note`` per year."""

    target: str
    region: str
    value: xr.DataArray
    comparison: Comparison
    threshold: float
    definition: str
    source: str
    notes: Callable[[int], str] | None = None
    #: Whether an undefined value (nothing consumed) meets the target: true for caps.
    undefined_met: bool = False


#: Rounding allowed in a comparison (a cap met exactly by the LP reads 0.6500000001).
TOLERANCE: Final[float] = 1e-6


def is_met(value: float, comparison: Comparison, threshold: float, *,
           undefined_met: bool = False) -> bool:
    """Whether ``value comparison threshold`` holds (within :data:`TOLERANCE`).

    NaN (undefined: nothing consumed) gives ``undefined_met``: a cap on nothing is met, a
    benchmark on nothing is not.
    """
    if math.isnan(value):
        return undefined_met
    if comparison == "<":
        return value < threshold
    if comparison == "≤":
        return value <= threshold + TOLERANCE
    return value >= threshold - TOLERANCE


def us_targets(ds: xr.Dataset, members: Sequence[str], region: str = "USA") -> list[TargetValue]:
    """The US reliance goal on the USGS and on the embedded-content definition."""
    return [
        TargetValue(f"net import reliance < 50 % by {TARGET_YEAR}", region,
                    usgs_net_import_reliance(ds, members), "<", US_RELIANCE_TARGET,
                    DEF_USGS, US_SOURCE),
        TargetValue(f"net import reliance < 50 % by {TARGET_YEAR}", region,
                    embedded_net_import_reliance(ds, members, "total"), "<",
                    US_RELIANCE_TARGET, DEF_EMBEDDED, US_SOURCE),
    ]


def crma_targets(ds: xr.Dataset, members: Sequence[str], region: str = "EU", *,
                 reexport_hubs: Sequence[str] = ()) -> list[TargetValue]:
    """The four CRMA Art. 5 benchmarks (the single-country cap once per stage)."""
    base = crma_compliance(ds, members, "separation", reexport_hubs=reexport_hubs)
    definition = "share of annual oxide consumption"
    found = [
        TargetValue("CRMA extraction ≥ 10 %", region, base["extraction_share"], "≥",
                    EXTRACTION_BENCHMARK, f"mined REO, {definition}", CRMA_SOURCE),
        TargetValue("CRMA processing ≥ 40 %", region, base["processing_share"], "≥",
                    PROCESSING_BENCHMARK, f"separated oxide, {definition}", CRMA_SOURCE),
        TargetValue("CRMA recycling ≥ 25 %", region, base["recycling_share"], "≥",
                    RECYCLING_BENCHMARK, f"recycled oxide, {definition}", CRMA_SOURCE),
    ]
    for stage in CAP_STAGES:
        check = crma_compliance(ds, members, stage, reexport_hubs=reexport_hubs)
        suppliers = check["largest_supplier"]
        found.append(TargetValue(
            f"CRMA single third country ≤ 65 % ({stage})", region, check["largest_share"], "≤",
            SINGLE_COUNTRY_CAP, f"largest third-country share of consumption, {DEF_TRACED}",
            CRMA_SOURCE, notes=partial(_supplier_note, suppliers), undefined_met=True))
    return found


def _supplier_note(suppliers: xr.DataArray, year: int) -> str:
    name = str(suppliers.sel(year=year).values)
    return f"largest: {name}" if name else "no third-country supply"


def target_checks(
    ds: xr.Dataset,
    *,
    us_members: Sequence[str] | None = None,
    eu_members: Sequence[str] | None = None,
    reexport_hubs: Sequence[str] = (),
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every stated target in every year (default: all years of the run), met or missed.

    One run (no ``draw`` dim). Columns: ``target``, ``region``, ``year``, ``value`` (fraction),
    ``comparison`` and ``threshold`` (``met`` = ``value comparison threshold``; an undefined
    value - nothing consumed - meets a cap and misses a benchmark), ``due`` (the year the
    target is due by), ``definition`` (which metric definition the value uses), ``note`` (the
    largest supplier for the caps) and ``source``.
    Targets of a group are skipped when its members are not given.
    """
    if "draw" in ds.dims:
        raise ValueError("target_checks takes one run; select a draw first")
    found: list[TargetValue] = []
    if us_members:
        found += us_targets(ds, us_members)
    if eu_members:
        found += crma_targets(ds, eu_members, reexport_hubs=reexport_hubs)
    chosen = [int(y) for y in ds["year"].values] if years is None else list(years)
    rows = []
    for item in found:
        for year in chosen:
            value = float(item.value.sel(year=year))
            rows.append({
                "target": item.target, "region": item.region, "year": year, "value": value,
                "comparison": item.comparison, "threshold": item.threshold,
                "met": is_met(value, item.comparison, item.threshold,
                              undefined_met=item.undefined_met),
                "due": TARGET_YEAR,
                "definition": item.definition,
                "note": item.notes(year) if item.notes is not None else "",
                "source": item.source,
            })
    return pd.DataFrame(rows, columns=list(COLUMNS))
