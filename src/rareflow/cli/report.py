"""``rareflow report RUN``: write a run's self-contained HTML report.

Registered on the main group of :mod:`rareflow.cli`. Heavy modules (xarray, plotly, the store)
are imported only when the command runs, to keep ``--help`` fast.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from rareflow.cli import errors
from rareflow.cli.options import store_option, world_option


@click.command("report")
@click.argument("run", metavar="RUN")
@store_option
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="HTML file to write.")
@click.option("--force", is_flag=True, help="Overwrite the --out file if it exists.")
@click.option("--year", type=int, default=None,
              help="Year of the material-flow Sankey (default: the run's last year).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="World-data overrides the run used (for its sources).")
@world_option
def report_command(
    run: str, store_dir: Path, out_file: Path, force: bool, year: int | None,
    data_dir: Path | None, world: str | None,
) -> None:
    """Write the self-contained HTML report of RUN (opens offline, scripts inlined).

    RUN is a run id or unique id prefix in the store, or a NetCDF file written by
    ``rareflow run --out``. The world defaults to the one the run's scenario names.
    """
    from rareflow.data.loader import load_world
    from rareflow.model.errors import DataError
    from rareflow.model.world import DEFAULT_WORLD
    from rareflow.report.figures import result_years
    from rareflow.report.html import write_report
    from rareflow.report.loading import ReportInputError, load_report_input
    from rareflow.report.provenance import scenario_text_world

    if out_file.exists() and not force:
        errors.fail(f"{out_file} exists; give --force to overwrite it")
    console = Console(stderr=True)

    def fail(message: str) -> None:
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        raise SystemExit(2)

    try:
        loaded = load_report_input(run, store_dir)
        text_world = scenario_text_world(loaded.meta.scenario_text)
        if world is not None and text_world is not None and world != text_world:
            raise DataError(f"run {run} is of world '{text_world}', not '{world}'")
        world_data = load_world(data_dir, vintage=world or text_world or DEFAULT_WORLD)
    except (ReportInputError, DataError) as error:
        fail(str(error))
        return
    years = result_years(loaded.result)
    if year is not None and year not in years:
        fail(f"year {year} is not in the run; pick one of {years[0]}–{years[-1]}")
    try:
        path = write_report(out_file, loaded.result, world_data, loaded.meta,
                            summary=loaded.summary, year=year)
    except OSError as error:
        fail(f"cannot write {out_file}: {error}")
        return
    size = path.stat().st_size / 2**20
    what = loaded.meta.run_id or run
    console.print(f"wrote {path} ({size:.1f} MiB): {loaded.meta.scenario_name}, {what}, "
                  f"{years[0]}–{years[-1]}", highlight=False, markup=False)
