"""Find what a report shows: a stored run (id or unique prefix) or a NetCDF result file.

For an ensemble run only one draw's full result is read (the lowest done draw: its charts and
answers illustrate one sampled future) plus the ensemble summary, so memory does not grow with
the number of draws.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

import xarray as xr

from rareflow.metrics.contract import missing_variables
from rareflow.report.provenance import ReportMeta
from rareflow.store import AmbiguousRunError, RunNotFoundError, RunStore, StoreError
from rareflow.store.store import DB_FILE

#: Result variables the report's charts and answers read.
NEEDED: tuple[str, ...] = (
    "production", "consumption", "trade", "served", "unmet", "price", "recycled",
    "stockpile_release", "stockpile_level", "disposal", "concentrate_stored",
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
    path = Path(run)
    if path.is_file():
        return _from_netcdf(path)
    if path.suffix in {".nc", ".nc4", ".netcdf"}:
        raise ReportInputError(f"no such file: {path}")
    if not (store_dir / DB_FILE).exists():
        raise ReportInputError(
            f"no run store at {store_dir} (give one with --store), and {run!r} is not a file"
        )
    with RunStore(store_dir, read_only=True) as store:
        return _from_store(store, run)


def _from_netcdf(path: Path) -> ReportInput:
    try:
        result = xr.load_dataset(path)
    except (OSError, ValueError, TypeError) as error:
        raise ReportInputError(f"cannot read {path} as a NetCDF result: {error}") from error
    draw = None
    if "draw" in result.dims:
        draw = int(result["draw"].values[0])
        result = result.isel(draw=0, drop=True)
    _check(result, str(path))
    meta = ReportMeta.from_result(result, origin=f"NetCDF file {path}")
    if draw is not None:
        meta = replace(meta, kind="ensemble", draw=draw)
    return ReportInput(result, meta)


def _from_store(store: RunStore, run_id: str) -> ReportInput:
    try:
        info = store.get_run(run_id)
    except AmbiguousRunError as error:
        raise ReportInputError(str(error)) from error
    except RunNotFoundError as error:
        raise ReportInputError(_not_found(store, run_id)) from error
    origin = f"run store {store.root}"
    try:
        if info.kind == "ensemble":
            done = sorted(store.completed_draws(info.run_id))
            if not done:
                raise ReportInputError(f"ensemble run {info.run_id} has no completed draws yet")
            result = store.load_result(info.run_id, draw=done[0])
            summary = _ensemble_summary(store, info.run_id)
            meta = ReportMeta.from_run(info, origin=origin, draw=done[0])
        else:
            result = store.load_result(info.run_id)
            summary = None
            meta = ReportMeta.from_run(info, origin=origin)
    except StoreError as error:
        raise ReportInputError(f"cannot read run {info.run_id}: {error}") from error
    _check(result, f"run {info.run_id}")
    return ReportInput(result, meta, summary)


def _ensemble_summary(store: RunStore, run_id: str) -> xr.Dataset:
    from rareflow.ensemble.summary import ensemble_summary

    return ensemble_summary(store, run_id)


def _check(result: xr.Dataset, where: str) -> None:
    missing = missing_variables(result, NEEDED)
    if missing or "year" not in result.dims:
        raise ReportInputError(
            f"{where} is not a rareflow result (lacks {', '.join(missing) or 'a year dim'}; "
            "see docs/results.md)"
        )


def _not_found(store: RunStore, run_id: str) -> str:
    runs = store.list_runs()
    ids = [run.run_id for run in runs]
    close = difflib.get_close_matches(run_id, ids, n=3, cutoff=0.3)
    if not ids:
        return f"no run {run_id!r}: the store {store.root} is empty"
    if close:
        return f"no run {run_id!r} in {store.root}; closest: {', '.join(close)}"
    newest = ", ".join(f"{run.run_id} ({run.scenario_name})" for run in runs[:3])
    return f"no run {run_id!r} in {store.root}; newest runs: {newest}"
