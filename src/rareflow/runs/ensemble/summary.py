"""Ensemble summaries read from the run store: fan-chart percentiles and self-sufficiency odds.

Only the two small per-draw variables of :mod:`rareflow.runs.ensemble.series` are read (DuckDB scans
their Parquet files), so summarising 1,000 draws never loads a full result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.metrics.ensemble import DEFAULT_PERCENTILES, fan
from rareflow.metrics.sufficiency import (
    SUFFICIENCY_THRESHOLD,
    first_sufficient_year,
    sufficient_from,
)
from rareflow.store import RunStore


def ensemble_summary(store: RunStore, run_id: str) -> xr.Dataset:
    """Percentile fans and self-sufficiency probabilities of an ensemble run's done draws.

    Returns a Dataset with coords ``year``, ``percentile`` (5, 25, 50, 75, 95), ``series``
    (with a ``unit`` coord along it) and ``target``, and data variables

    * ``fan`` (series, percentile, year): ``quantile_draw(key_series, p/100)``;
    * ``sufficiency_probability`` (target, year): share of draws self-sufficient from that year
      on, ``(1/N) Σ_draw 1[share ≥ threshold in that year and every later one]``;
    * ``sufficiency_year_median`` (target): median first self-sufficient year (NaN if fewer
      than half of the draws ever get there).

    Attributes: run_id, scenario_name, n_draws, n_done, n_failed, seed, threshold.
    """
    run = store.get_run(run_id)
    series = _stack(store.load_variable(run.run_id, "key_series"), "series")
    shares = _stack(store.load_variable(run.run_id, "sufficiency_share"), "target")
    units = _units(store, run.run_id, series)
    bands = fan(series, DEFAULT_PERCENTILES).transpose("series", "percentile", "year")
    holds = sufficient_from(shares, SUFFICIENCY_THRESHOLD).astype(float)
    probability = holds.mean("draw").transpose("target", "year")
    first = first_sufficient_year(shares, SUFFICIENCY_THRESHOLD)
    median_year = first.fillna(np.inf).quantile(0.5, dim="draw", method="lower")
    median_year = median_year.where(np.isfinite(median_year)).drop_vars("quantile")
    summary = xr.Dataset(
        {"fan": bands, "sufficiency_probability": probability,
         "sufficiency_year_median": median_year},
    ).assign_coords(unit=("series", units))
    summary["fan"].attrs = {"long_name": "percentiles across draws of key series"}
    summary["sufficiency_probability"].attrs = {"units": "1", "threshold": SUFFICIENCY_THRESHOLD}
    summary["sufficiency_year_median"].attrs = {"units": "year"}
    summary.attrs = {"run_id": run.run_id, "scenario_name": run.scenario_name,
                     "n_draws": run.n_draws, "n_done": run.n_done, "n_failed": run.n_failed,
                     "seed": run.seed, "threshold": SUFFICIENCY_THRESHOLD}
    return summary


def _stack(frame: pd.DataFrame, label: str) -> xr.DataArray:
    """A tidy (draw, label, year, value) frame as a DataArray (draw, label, year)."""
    order = list(dict.fromkeys(frame[label]))
    table = frame.set_index(["draw", label, "year"])["value"]
    da = xr.DataArray.from_series(table).reindex({label: order})
    return da.transpose("draw", label, "year")


def _units(store: RunStore, run_id: str, series: xr.DataArray) -> list[str]:
    """Unit of each series, from the first done draw's stored coordinate."""
    first = min(store.completed_draws(run_id))
    stored = store.load_result(run_id, first)["key_series"]
    units = dict(zip(stored["series"].values.tolist(), stored["unit"].values.tolist(),
                     strict=True))
    return [str(units[name]) for name in series["series"].values.tolist()]
