"""``rareflow runs list|show|delete|prune``: the run store from the command line.

Registered on the ``runs`` group of :mod:`rareflow.cli` by :func:`register`. The store modules
(DuckDB, pyarrow, xarray) are imported only when a command runs, to keep ``--help`` fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rareflow.cli.errors import fail
from rareflow.cli.options import emit_json, json_options, store_option
from rareflow.cli.tables import fitted

if TYPE_CHECKING:
    from rareflow.store.runs import RunInfo
    from rareflow.store.store import RunStore



def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def _open(store_dir: Path, *, write: bool) -> RunStore:
    from rareflow.store.ownership import is_store
    from rareflow.store.store import DB_FILE, RunStore

    if not is_store(store_dir, store_dir / DB_FILE):
        fail(f"no run store at {store_dir} (give one with --store)")
    return RunStore(store_dir, read_only=not write)


def _runs_table(runs: list[RunInfo], *, with_kind: bool = True) -> Table:
    """The runs as a table.

    Without ``with_kind`` it is narrower: single runs show ``single`` as their draws, and
    columns are one space apart.
    """
    table = Table(title="Runs", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  padding=(0, 1) if with_kind else (0, 1, 0, 0))
    names = ("run", "kind", "scenario", "status", "draws", "seed", "created")
    for column in names if with_kind else tuple(n for n in names if n != "kind"):
        table.add_column(column, justify="right" if column in {"draws", "seed"} else "left",
                         no_wrap=True)
    for run in runs:
        draws = f"{run.n_done}/{run.n_draws}"
        if run.n_failed:
            draws += f" ✗{run.n_failed}"
        if not with_kind and run.kind == "single":
            draws = "single"  # its status says whether it stored a result
        cells: list[str | Text] = [run.run_id, run.kind, Text(run.scenario_name), run.status,
                                   draws, str(run.seed), run.created_at.strftime("%Y-%m-%d %H:%M")]
        table.add_row(*(cells if with_kind else cells[:1] + cells[2:]))
    return table


@click.command("list")
@store_option
@json_options("the runs")
def list_command(store_dir: Path, as_json: bool, json_out: Path | None) -> None:
    """List the runs in the store, newest first."""
    with _open(store_dir, write=False) as store:
        runs = store.list_runs(check_files=True)
    if emit_json([run.to_dict(include_scenario=False) for run in runs], as_json=as_json,
                 json_out=json_out):
        return
    console = Console()
    if not runs:
        console.print(Text(f"No runs in {store_dir}."))
        return
    console.print(fitted(console, _runs_table(runs), _runs_table(runs, with_kind=False)))


@click.command("show")
@click.argument("run_id", metavar="RUN")
@store_option
@json_options("the run")
@click.option("--scenario", "with_scenario", is_flag=True, help="Also print the scenario YAML.")
def show_command(run_id: str, store_dir: Path, as_json: bool, json_out: Path | None,
                 with_scenario: bool) -> None:
    """Show one run (id or unique id prefix): inputs, draws, variables and failures."""
    with _open(store_dir, write=False) as store:
        run = store.get_run(run_id, check_files=True)
        errors = store.draw_errors(run.run_id)
    data = run.to_dict(include_scenario=True)
    data["failures"] = {str(draw): error for draw, error in errors.items()}
    if emit_json(data, as_json=as_json, json_out=json_out):
        return
    console = Console()
    table = Table(title=Text(f"Run {run.run_id}"), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("kind", run.kind),
        ("scenario", run.scenario_name),
        ("status", run.status),
        ("draws", f"{run.n_done} done, {run.n_failed} failed, {run.n_pending} pending "
                  f"of {run.n_draws}"),
        ("seed", str(run.seed)),
        ("data version", run.data_version),
        ("code version", run.code_version),
        ("created", run.created_at.isoformat(timespec="seconds")),
        ("size", _human_bytes(run.n_bytes)),
        ("params", json.dumps(run.params, sort_keys=True)),
        ("variables", ", ".join(run.variables) or "-"),
        ("run key", run.run_key[:16]),
        *[("damaged", text) for text in run.damage],
        *([("recover", run.recovery)] if run.damage else []),
    ]
    for field, value in rows:
        table.add_row(field, Text(value))
    console.print(table)
    if errors:
        failures = Table(title="Failed draws", header_style="bold")
        failures.add_column("draw", justify="right")
        failures.add_column("error (last line)")
        for draw, error in errors.items():
            lines = error.strip().splitlines()
            failures.add_row(str(draw), Text(lines[-1] if lines else ""))
        console.print(failures)
    if with_scenario:
        console.rule("scenario")
        console.print(run.scenario_text, markup=False, highlight=False)


@click.command("delete")
@click.argument("run_id", metavar="RUN")
@store_option
@json_options("what was deleted")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(run_id: str, store_dir: Path, as_json: bool, json_out: Path | None,
                   yes: bool) -> None:
    """Delete a run (id or unique id prefix) and its result files."""
    with _open(store_dir, write=True) as store:
        run = store.get_run(run_id)
        if not yes:
            click.confirm(
                f"Delete run {run.run_id} ({run.scenario_name}, {run.n_done} draws, "
                f"{_human_bytes(run.n_bytes)})?",
                abort=True,
            )
        store.delete_run(run.run_id)
    if not emit_json({"deleted": run.run_id}, as_json=as_json, json_out=json_out):
        click.echo(f"Deleted run {run.run_id}.")


@click.command("prune")
@store_option
@json_options("what was deleted")
def prune_command(store_dir: Path, as_json: bool, json_out: Path | None) -> None:
    """Delete single runs that never stored a result (killed runs), and crash debris."""
    with _open(store_dir, write=True) as store:
        pruned = store.prune()
    if emit_json({"deleted": [run.run_id for run in pruned]}, as_json=as_json,
                 json_out=json_out):
        return
    if not pruned:
        click.echo("Nothing to prune.")
    else:
        for run in pruned:
            click.echo(f"Deleted run {run.run_id} ({run.scenario_name}, no result stored).")


def register(group: click.Group) -> None:
    """Add ``list``, ``show``, ``delete`` and ``prune`` to the ``runs`` group."""
    group.add_command(list_command)
    group.add_command(show_command)
    group.add_command(delete_command)
    group.add_command(prune_command)
