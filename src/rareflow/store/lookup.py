"""What a command's RUN argument names: a NetCDF result file, or a stored run.

``rareflow report`` and ``rareflow compare`` (and any later command taking a RUN) accept a path
to a file written by ``rareflow run --out`` or a run id / unique id prefix in the run store.
:func:`find_run` resolves it and, when it names nothing, says what is close.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import xarray as xr

from rareflow.store.errors import AmbiguousRunError, RunNotFoundError, StoreError
from rareflow.store.ownership import is_store
from rareflow.store.runs import RunInfo
from rareflow.store.store import DB_FILE, RunStore

#: Suffixes that mark an argument as a file name even when no such file exists.
NETCDF_SUFFIXES = frozenset({".nc", ".nc4", ".netcdf"})
#: How many ids a "not found" message suggests.
CLOSEST = 3

EnsembleDraw = Literal["ask", "first"]


class RunLookupError(Exception):
    """RUN names no readable run or result file (the message says why and what is close)."""


@dataclass(frozen=True)
class FoundRun:
    """A result and where it came from: a file (``info`` None) or a stored run."""

    result: xr.Dataset
    label: str
    info: RunInfo | None = None
    path: Path | None = None
    draw: int | None = None


def find_run(
    reference: str, store_dir: Path, *, draw: int | None = None,
    ensemble: EnsembleDraw = "ask",
) -> FoundRun:
    """The result ``reference`` names: an existing file, else a run id or prefix in the store.

    For an ensemble (a stored ensemble run, or a file with a ``draw`` dim) ``draw`` picks the
    draw; without it ``ensemble="first"`` reads the lowest done draw and ``"ask"`` raises,
    asking for ``--draw``. Raises :class:`RunLookupError` with a message for the user.
    """
    path = Path(reference)
    if path.is_file():
        return _from_file(path, draw)
    if path.suffix in NETCDF_SUFFIXES or "/" in reference:
        raise RunLookupError(f"no such file: {reference}")
    if not is_store(store_dir, store_dir / DB_FILE):
        raise RunLookupError(f"no file named {reference!r} and no run store at {store_dir} "
                             "(give one with --store)")
    try:
        with RunStore(store_dir, read_only=True) as store:
            return _from_store(store, reference, draw, ensemble)
    except StoreError as error:
        raise RunLookupError(str(error)) from error


def _from_file(path: Path, draw: int | None) -> FoundRun:
    try:
        result = xr.load_dataset(path)
    except (OSError, ValueError, TypeError) as error:
        raise RunLookupError(f"cannot read {path} as NetCDF: {error}") from error
    if "draw" not in result.dims:
        return FoundRun(result, str(path), path=path)
    picked = int(result["draw"].values[0]) if draw is None else draw
    if picked not in result["draw"].values:
        raise RunLookupError(f"{path} has no draw {picked}")
    return FoundRun(result.sel(draw=picked, drop=True), f"{path}#{picked}", path=path,
                    draw=picked)


def _from_store(store: RunStore, run_id: str, draw: int | None,
                ensemble: EnsembleDraw) -> FoundRun:
    try:
        info = store.get_run(run_id)
    except AmbiguousRunError as error:
        raise RunLookupError(str(error)) from error
    except RunNotFoundError as error:
        raise RunLookupError(not_found_message(run_id, store.root, store.list_runs())) from error
    if info.kind == "single":
        return FoundRun(store.load_result(info.run_id), info.run_id, info)
    if draw is None and ensemble == "ask":
        raise RunLookupError(f"run {info.run_id} is an ensemble of {info.n_draws} draws; "
                             "pick one with --draw")
    if draw is None:
        done = sorted(store.completed_draws(info.run_id))
        if not done:
            raise RunLookupError(f"ensemble run {info.run_id} has no completed draws yet")
        draw = done[0]
    return FoundRun(store.load_result(info.run_id, draw), f"{info.run_id}#{draw}", info,
                    draw=draw)


def not_found_message(run_id: str, store_dir: Path, runs: list[RunInfo]) -> str:
    """Message for an unknown id: runs of a scenario so named, else the closest or newest ids."""
    labels = {run.run_id: f"{run.run_id} ({run.scenario_name})" for run in runs}
    if not labels:
        return f"no run {run_id!r}: the run store at {store_dir} is empty"
    named = [run.run_id for run in runs if run.scenario_name == run_id][:CLOSEST]
    close = difflib.get_close_matches(run_id, list(labels), n=CLOSEST, cutoff=0.3)
    picks = list(dict.fromkeys([*named, *close])) or [run.run_id for run in runs][:CLOSEST]
    hint = "runs of that scenario" if named else "closest ids" if close else "newest runs"
    return (f"no run {run_id!r} in {store_dir}; {hint}: "
            + ", ".join(labels[pick] for pick in picks))
