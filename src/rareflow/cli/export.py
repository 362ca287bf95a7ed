"""``rareflow export RUN``: a stored run as one tidy long table (CSV, Parquet or xlsx).

Registered on the main group of :mod:`rareflow.cli`. The table's columns are described in
:mod:`rareflow.runs.export` and ``docs/export.md``; the store, pyarrow and openpyxl are imported
only when the command runs, to keep ``--help`` fast.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from rareflow.cli.errors import fail
from rareflow.cli.options import emit_json, json_options, store_option


@click.command("export")
@click.argument("run_id", metavar="RUN")
@store_option
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True,
              help="File to write.")
@click.option("--format", "format_name", default=None, metavar="csv|parquet|xlsx",
              help="Table format (default: from the --out suffix).")
@click.option("--draw", type=int, default=None,
              help="One draw of an ensemble (default: every done draw, with a draw column).")
@click.option("--variable", "variables", multiple=True, metavar="NAME",
              help="Only this variable (repeat for several; default: all).")
@click.option("--force", is_flag=True, help="Overwrite the --out file if it exists.")
@json_options("what was written")
def export_command(
    run_id: str,
    store_dir: Path,
    out_file: Path,
    format_name: str | None,
    draw: int | None,
    variables: tuple[str, ...],
    force: bool,
    as_json: bool,
    json_out: Path | None,
) -> None:
    """Write RUN (a run id or unique id prefix) as a tidy long table, zeros included.

    One row per cell of every variable: run_id, scenario, [draw,] variable, units, one column
    per dimension (year, region, stage, element, origin, ...), value.
    """
    from rareflow.runs.export import ExportError, check_target, export_run, pick_format
    from rareflow.store.errors import RunNotFoundError
    from rareflow.store.lookup import not_found_message
    from rareflow.store.ownership import is_store
    from rareflow.store.store import DB_FILE, RunStore

    console = Console(stderr=True)
    try:
        check_target(out_file, overwrite=force)
        chosen = pick_format(format_name, out_file)
    except ExportError as error:
        fail(str(error))
    if not is_store(store_dir, store_dir / DB_FILE):
        fail(f"no run store at {store_dir} (give one with --store)")
    with RunStore(store_dir, read_only=True) as store:
        try:
            with console.status("exporting") as status:
                summary = export_run(
                    store, run_id, out_file, chosen, draw=draw, variables=variables,
                    progress=lambda name: status.update(f"exporting {name}"))
        except RunNotFoundError:
            fail(not_found_message(run_id, store_dir, store.list_runs()))
        except ExportError as error:
            fail(str(error))
        except OSError as error:
            fail(f"cannot write --out {out_file}: {error.strerror or error}")
    document = {"path": str(summary.path), "format": summary.format, "run_id": summary.run_id,
                "draws": list(summary.draws), "variables": list(summary.variables),
                "rows": summary.rows}
    if emit_json(document, as_json=as_json, json_out=json_out):
        return
    draws = "" if len(summary.draws) == 1 else f", {len(summary.draws)} draws"
    console.print(f"wrote {summary.path} ({summary.format}, {summary.rows:,} rows, "
                  f"{len(summary.variables)} variables{draws}) from run {summary.run_id}",
                  highlight=False, markup=False)
