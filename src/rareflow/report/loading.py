"""Find what a report shows: a stored run (id or unique prefix) or a NetCDF result file.

For an ensemble run only one draw's full result is read (the lowest done draw: its charts and
answers illustrate one sampled future) plus the ensemble summary, so memory does not grow with
the number of draws.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import xarray as xr

from rareflow.metrics.contract import missing_variables
from rareflow.report.provenance import ReportMeta
from rareflow.store import RunStore, StoreError
from rareflow.store.lookup import RunLookupError, find_run

#: Result variables the report's charts and answers read.
NEEDED: tuple[str, ...] = (
    "production", "consumption", "trade", "served", "demand_response", "shortfall", "price",
    "recycled", "stockpile_release", "stockpile_level", "disposal", "concentrate_stored",
)


class ReportInputError(Exception):
    """RUN names no readable run or result file (the message says why and what is close)."""


@dataclass(frozen=True)
class ReportInput:
    """A result to report on, what it is, and for ensembles the summary across draws."""

    result: xr.Dataset
    meta: ReportMeta
    summary: xr.Dataset | None = None


def load_report_input(run: str, store_dir: Path) -> ReportInput:
    """The run ``run`` (id, unique id prefix, or path of a NetCDF file) ready for a report."""
    try:
        found = find_run(run, store_dir, ensemble="first")
    except RunLookupError as error:
        raise ReportInputError(str(error)) from error
    info = found.info
    if info is None:
        _check(found.result, found.label)
        meta = ReportMeta.from_result(found.result, origin=f"NetCDF file {found.path}")
        if found.draw is not None:
            meta = replace(meta, kind="ensemble", draw=found.draw)
        return ReportInput(found.result, meta)
    _check(found.result, f"run {info.run_id}")
    origin = f"run store {store_dir}"
    if info.kind != "ensemble":
        return ReportInput(found.result, ReportMeta.from_run(info, origin=origin))
    with RunStore(store_dir, read_only=True) as store:
        try:
            summary = _ensemble_summary(store, info.run_id)
        except StoreError as error:
            raise ReportInputError(f"cannot read run {info.run_id}: {error}") from error
    return ReportInput(found.result, ReportMeta.from_run(info, origin=origin, draw=found.draw),
                       summary)


def _ensemble_summary(store: RunStore, run_id: str) -> xr.Dataset:
    from rareflow.runs.ensemble.summary import ensemble_summary

    return ensemble_summary(store, run_id)


def _check(result: xr.Dataset, where: str) -> None:
    missing = missing_variables(result, NEEDED)
    if missing or "year" not in result.dims:
        raise ReportInputError(
            f"{where} is not a rareflow result (lacks {', '.join(missing) or 'a year dim'}; "
            "see docs/results.md)"
        )
