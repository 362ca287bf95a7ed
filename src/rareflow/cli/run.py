"""``rareflow run``: simulate a scenario with a progress bar, store it, print the answers."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rareflow.cli.errors import fail
from rareflow.cli.jsonout import to_json
from rareflow.cli.options import parse_years, store_option
from rareflow.metrics import answers
from rareflow.runs.netcdf import write_netcdf
from rareflow.runs.runner import RunOutcome, prepare_run, run_parsed_scenario
from rareflow.scenario.scenario import DEFAULT_YEARS
from rareflow.store import RunStore


def _summary(outcome: RunOutcome) -> Table:
    ds = outcome.result
    table = Table(title=escape(f"{outcome.scenario.name}: {outcome.scenario.description}"))
    table.add_column("question")
    table.add_column("answer")
    frame = answers(ds, outcome.world)
    for row in frame.itertuples():
        table.add_row(Text(str(row.question)), Text(str(row.answer)))
    return table


@click.command("run")
@click.argument("scenario")
@click.option("--years", "years_text", default=None,
              help="START-END (default: the scenario's, else "
                   f"{DEFAULT_YEARS[0]}-{DEFAULT_YEARS[-1]}).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Directory of world-data overrides.")
@store_option
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the result dataset to this file (compressed NetCDF4, "
                   "CF attributes).")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
def run_command(
    scenario: str,
    years_text: str | None,
    data_dir: Path | None,
    store_dir: Path,
    out_file: Path | None,
    as_json: bool,
) -> None:
    """Simulate SCENARIO (a bundled name or a YAML file) year by year and print the answers."""
    console = Console(stderr=True)
    years = parse_years(years_text)
    if out_file is not None and not out_file.resolve().parent.is_dir():
        fail(f"--out {out_file}: its folder {out_file.resolve().parent} does not exist")
    inputs = prepare_run(scenario, years=years, data_dir=data_dir)  # validate before the bar
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
            write_netcdf(outcome.result, out_file)
        except OSError as error:
            stored = f" (the run is stored as {outcome.run_id})" if outcome.run_id else ""
            fail(f"cannot write --out {out_file}: {error.strerror or error}{stored}")
    if as_json:
        frame = answers(outcome.result, outcome.world)
        click.echo(to_json({"run_id": outcome.run_id, "scenario": outcome.scenario.name,
                            "answers": frame.to_dict(orient="records")}))
        return
    Console().print(_summary(outcome))
    console.print(f"stored as run [bold]{outcome.run_id}[/bold] in {escape(str(store_dir))}")
