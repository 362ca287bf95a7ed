"""``rareflow ensemble``: run or resume an uncertainty ensemble with a progress bar."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from rareflow.cli.errors import EXIT_PROBLEM, fail
from rareflow.cli.options import (
    DEFAULT_YEARS_TEXT,
    emit_json,
    json_options,
    parse_years,
    store_option,
    world_option,
)

if TYPE_CHECKING:  # Dask, xarray and the model are imported when the command runs (fast --help)
    import xarray as xr

    from rareflow.runs.ensemble.driver import EnsembleOutcome, EnsembleProgress

#: Seconds ``--scheduler`` is given to answer by default (the driver's DEFAULT_CONNECT_TIMEOUT,
#: written out so that ``--help`` needs no Dask import; a test checks that they agree).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Years shown in the self-sufficiency probability table.
SHOWN_YEARS: tuple[int, ...] = (2026, 2028, 2030, 2035, 2040)


@click.command("ensemble")
@click.argument("scenario")
@click.option("--draws", type=click.IntRange(min=1), required=True, help="Number of draws.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Ensemble seed; draw i depends only on the seed and i.")
@click.option("--years", "years_text", default=None,
              help=f"START-END (default: the scenario's, else {DEFAULT_YEARS_TEXT}).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Directory of world-data overrides.")
@world_option
@store_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local Dask worker processes (default: one per core).")
@click.option("--scheduler", default=None,
              help="Address of an existing Dask scheduler (e.g. tcp://scheduler.example:8786); "
                   "its workers need this rareflow version installed, not the data or store.")
@click.option("--connect-timeout", type=click.FloatRange(min=0.1), show_default=True,
              default=DEFAULT_CONNECT_TIMEOUT, envvar="RAREFLOW_CONNECT_TIMEOUT",
              help="Seconds to wait for --scheduler to answer before giving up.")
@click.option("--results-url", default=None, metavar="URL",
              help="Workers write each draw's files under this URL, which this process and "
                   "every worker reach (e.g. file:///mnt/shared/rareflow-staging or "
                   "s3://bucket.example/rareflow-staging; needs the protocol's fsspec package, "
                   "e.g. s3fs, everywhere), instead of returning them through Dask; they are "
                   "checked, stored and removed from there.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Draws per Dask task (default: 25, shrinking to 3 as draws run out).")
@click.option("--no-fsync", is_flag=True,
              help="Skip fsync of result files (faster; a power loss may lose recent draws).")
@json_options("the outcome and summary")
def ensemble_command(
    scenario: str, draws: int, seed: int, years_text: str | None, data_dir: Path | None,
    world: str | None, store_dir: Path, workers: int | None, scheduler: str | None,
    connect_timeout: float, results_url: str | None,
    batch_size: int | None, no_fsync: bool, as_json: bool, json_out: Path | None,
) -> None:
    """Run DRAWS draws of SCENARIO's uncertainty on Dask; re-running resumes missing draws.

    More --draws than a stored ensemble with the same seed and inputs extends that run: only
    the new draws run. Results come back to this process through Dask, or through
    --results-url, and only it writes the run store; workers with another rareflow version
    are refused.
    """
    from rareflow.runs.ensemble.driver import run_ensemble
    from rareflow.runs.ensemble.versions import VersionMismatchError
    from rareflow.store.remote import ResultsUrlError

    console = Console(stderr=True)
    started = time.perf_counter()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[failed]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=as_json) as bar:
        task = bar.add_task(f"{escape(scenario)} ensemble", total=draws, rate="", failed="")

        def report(p: EnsembleProgress) -> None:
            rate = (p.done - p.resumed) / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=p.done + p.failed, rate=f"{rate:.1f} draws/s",
                       failed=f"[red]{p.failed} failed[/red]" if p.failed else "")

        try:
            outcome = run_ensemble(scenario, draws=draws, seed=seed,
                                   years=parse_years(years_text), data_dir=data_dir,
                                   store_dir=store_dir, scheduler=scheduler, workers=workers,
                                   batch_size=batch_size, durable=not no_fsync,
                                   progress=report, connect_timeout=connect_timeout,
                                   world=world, results_url=results_url)
        except (VersionMismatchError, ResultsUrlError) as error:
            fail(str(error))
    elapsed = time.perf_counter() - started
    summary = _summary(store_dir, outcome)
    if not emit_json(_as_json(outcome, summary, elapsed), as_json=as_json, json_out=json_out,
                     indent=None):
        _print(console, outcome, summary, elapsed)
    if outcome.failures:
        raise SystemExit(EXIT_PROBLEM)


def _summary(store_dir: Path, outcome: EnsembleOutcome) -> xr.Dataset | None:
    from rareflow.runs.ensemble.summary import ensemble_summary
    from rareflow.store import RunStore

    if outcome.run.n_done == 0:
        return None
    with RunStore(store_dir, read_only=True) as store:
        return ensemble_summary(store, outcome.run_id)


def _as_json(outcome: EnsembleOutcome, summary: xr.Dataset | None,
             elapsed: float) -> dict[str, object]:
    out: dict[str, object] = {
        "run_id": outcome.run_id, "scenario": outcome.run.scenario_name,
        "n_draws": outcome.run.n_draws, "n_done": outcome.run.n_done,
        "n_failed": outcome.run.n_failed, "ran": outcome.ran, "resumed": outcome.resumed,
        "extended_from": outcome.extended_from,
        "seconds": round(elapsed, 3),
        "failures": {str(k): v for k, v in sorted(outcome.failures.items())},
    }
    if summary is not None:
        probability = summary["sufficiency_probability"]
        out["sufficiency_probability"] = {
            str(target): {str(int(y)): float(v) for y, v in
                          zip(probability["year"].values, row.values, strict=True)}
            for target, row in zip(probability["target"].values, probability, strict=True)
        }
        out["sufficiency_year_median"] = {
            str(t): (None if math.isnan(float(v)) else int(v))
            for t, v in zip(summary["target"].values,
                            summary["sufficiency_year_median"].values, strict=True)
        }
    return out


def _print(console: Console, outcome: EnsembleOutcome, summary: xr.Dataset | None,
           elapsed: float) -> None:
    run = outcome.run
    if outcome.extended_from is not None:
        console.print(f"extending run [bold]{escape(run.run_id)}[/bold] from "
                      f"{outcome.extended_from} to {run.n_draws} draws (same seed and inputs; "
                      f"draw i depends only on the seed and i): ran only draws "
                      f"{outcome.extended_from}–{run.n_draws - 1} and the missing ones")
    console.print(f"run [bold]{escape(run.run_id)}[/bold]: {run.n_done}/{run.n_draws} draws "
                  f"done ({outcome.ran} run now, {outcome.resumed} resumed from the store, "
                  f"{run.n_failed} failed) in {elapsed:.1f} s")
    for draw, error in sorted(outcome.failures.items())[:5]:
        console.print(f"[red]draw {draw} failed:[/red] {escape(error.splitlines()[-1])}")
    if run.n_failed:
        console.print(f"[red]{run.n_failed} of {run.n_draws} draws failed[/red]; the summary "
                      f"covers the {run.n_done} that succeeded (see 'rareflow runs show "
                      f"{escape(run.run_id)}'); run the command again to retry them")
    if summary is None:
        return
    probability = summary["sufficiency_probability"]
    years = [y for y in SHOWN_YEARS if y in probability["year"].values]
    table = Table(title=escape(f"{run.scenario_name}: probability of self-sufficiency by "
                               f"year ({run.n_done} draws)"))
    table.add_column("target")
    for year in years:
        table.add_column(str(year), justify="right")
    table.add_column("median year", justify="right")
    for target in probability["target"].values:
        row = probability.sel(target=target)
        median = float(summary["sufficiency_year_median"].sel(target=target))
        table.add_row(str(target), *(f"{100 * float(row.sel(year=y)):.0f} %" for y in years),
                      "after " + str(int(probability['year'].max())) if math.isnan(median)
                      else str(int(median)))
    Console().print(table)
