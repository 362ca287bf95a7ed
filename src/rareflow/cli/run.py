"""``rareflow run``: simulate a scenario with a progress bar, store it, print the answers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rareflow.cli.errors import fail
from rareflow.cli.options import (
    DEFAULT_YEARS_TEXT,
    emit_json,
    json_options,
    parse_years,
    store_option,
    world_option,
)

if TYPE_CHECKING:  # the model is imported when the command runs (fast --help)
    import pandas as pd

    from rareflow.runs.runner import RunOutcome


def _summary(outcome: RunOutcome, frame: pd.DataFrame) -> Table:
    table = Table(title=escape(f"{outcome.scenario.name}: {outcome.scenario.description}"))
    table.add_column("question")
    table.add_column("answer")
    for row in frame.itertuples():
        table.add_row(Text(str(row.question)), Text(str(row.answer)))
    return table


@click.command("run")
@click.argument("scenario")
@click.option("--years", "years_text", default=None,
              help=f"START-END (default: the scenario's, else {DEFAULT_YEARS_TEXT}).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Directory of world-data overrides.")
@world_option
@store_option
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the result dataset to this file (compressed NetCDF4, "
                   "CF attributes).")
@json_options("the answers")
def run_command(
    scenario: str,
    years_text: str | None,
    data_dir: Path | None,
    world: str | None,
    store_dir: Path,
    out_file: Path | None,
    as_json: bool,
    json_out: Path | None,
) -> None:
    """Simulate SCENARIO (a bundled name or a YAML file) year by year and print the answers."""
    from rareflow.metrics import answers
    from rareflow.runs.netcdf import write_netcdf
    from rareflow.runs.runner import prepare_run, run_parsed_scenario
    from rareflow.store import RunStore

    console = Console(stderr=True)
    years = parse_years(years_text)
    if out_file is not None and not out_file.resolve().parent.is_dir():
        fail(f"--out {out_file}: its folder {out_file.resolve().parent} does not exist")
    # validate before the bar
    inputs = prepare_run(scenario, years=years, data_dir=data_dir, world=world)
    RunStore.check_writable(store_dir)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} years"), TimeElapsedColumn(),
                  console=console, disable=as_json) as bar:
        task = bar.add_task(f"simulating {escape(scenario)}", total=len(inputs.years))
        outcome = run_parsed_scenario(inputs.scenario, inputs.world, inputs.years,
                                      store_dir=store_dir,
                                      progress=lambda _year: bar.advance(task))
    if out_file is not None:
        try:
            write_netcdf(outcome.result, out_file, run_id=outcome.run_id)
        except OSError as error:
            stored = f" (the run is stored as {outcome.run_id})" if outcome.run_id else ""
            fail(f"cannot write --out {out_file}: {error.strerror or error}{stored}")
    frame = answers(outcome.result, outcome.world)
    document = {"run_id": outcome.run_id, "scenario": outcome.scenario.name,
                "answers": frame.to_dict(orient="records")}
    if emit_json(document, as_json=as_json, json_out=json_out, indent=None):
        return
    Console().print(_summary(outcome, frame))
    console.print(f"stored as run [bold]{outcome.run_id}[/bold] in {escape(str(store_dir))}")
