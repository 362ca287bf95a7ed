"""``rareflow scenarios list`` and ``rareflow scenarios check``.

``check`` refuses an invalid scenario with exit status 2 and the same message ``rareflow run``
gives for it; ``list`` exits with 1 when a bundled scenario does not load.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rareflow.cli.errors import EXIT_BAD_INPUT, EXIT_PROBLEM
from rareflow.cli.options import emit_json, json_options, world_option
from rareflow.cli.tables import fitted

if TYPE_CHECKING:  # the model is imported when a command runs (fast --help)
    from rareflow.model.errors import DataError
    from rareflow.model.world import World


def _summary(name: str) -> dict[str, Any]:
    """Name, description, parent and instrument count of a bundled scenario (or its error)."""
    from rareflow.model.errors import DataError
    from rareflow.model.yamlio import read_yaml
    from rareflow.scenario.library import bundled_path
    from rareflow.scenario.loader import load_scenario

    path = bundled_path(name)
    assert path is not None
    row: dict[str, Any] = {"name": name, "file": str(path)}
    try:
        raw, _ = read_yaml(path)
        scenario = load_scenario(path)
    except DataError as exc:
        return {**row, "description": "", "extends": None, "world": None, "instruments": None,
                "error": str(exc)}
    extends = raw.get("extends") if isinstance(raw, dict) else None
    if isinstance(extends, list):
        extends = ", ".join(str(parent) for parent in extends)
    return {
        **row,
        "description": scenario.description,
        "extends": extends,
        "world": scenario.world_name(),
        "instruments": len(scenario.policies),
        "uncertain_inputs": len(scenario.uncertainty.distributions()),
        "error": None,
    }


def _scenario_table(rows: list[dict[str, Any]], *, narrow: bool = False) -> Table:
    """The bundled scenarios as a table; ``narrow`` moves the parent under the description."""
    table = Table(title="Bundled scenarios", box=box.SIMPLE_HEAD, header_style="bold",
                  pad_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("description", min_width=24, ratio=1)
    if not narrow:
        table.add_column("extends", no_wrap=True)
    table.add_column("policies", justify="right", no_wrap=True)
    for row in rows:
        description = (Text(row["description"]) if row["description"]
                       else Text(str(row["error"]), style="red"))
        count = "" if row["instruments"] is None else str(row["instruments"])
        if not narrow:
            table.add_row(Text(row["name"]), description, Text(row["extends"] or ""), count)
            continue
        if row["extends"]:
            description.append(f"\nextends {row['extends']}", style="dim")
        table.add_row(Text(row["name"]), description, count)
    return table


@click.command("list")
@json_options("the scenarios")
def list_command(as_json: bool, json_out: Path | None) -> None:
    """List the bundled scenarios."""
    from rareflow.scenario.library import bundled_names

    rows = [_summary(name) for name in bundled_names()]
    if not emit_json(rows, as_json=as_json, json_out=json_out):
        console = Console()
        console.print(fitted(console, _scenario_table(rows), _scenario_table(rows, narrow=True)))
    if any(row["error"] for row in rows):  # a bundled scenario is broken: a problem found
        sys.exit(EXIT_PROBLEM)


def _load_world(data_dir: Path | None, vintage: str = "2024") -> World | None:
    """The world to check against: ``vintage`` overlaid with ``data_dir`` if it is available."""
    from rareflow.model.world import World

    try:
        module = importlib.import_module("rareflow.data.loader")
    except ImportError:
        module = importlib.import_module("rareflow.data")
    load_world = getattr(module, "load_world", None)
    if load_world is None:
        if data_dir is not None:
            raise click.ClickException("world data loading is not available in this build")
        return None
    world = load_world(data_dir, vintage=vintage)
    assert isinstance(world, World)
    return world


@click.command("check")
@click.argument("scenario")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="World data folder to check names against (default: the bundled world).",
)
@world_option
@json_options("the result")
@click.option("--no-world", is_flag=True, help="Check the schema only, without world data.")
@click.option("--resolved", is_flag=True, help="Print the fully resolved scenario YAML.")
def check_command(
    scenario: str, data_dir: Path | None, world: str | None, as_json: bool,
    json_out: Path | None, no_world: bool, resolved: bool,
) -> None:
    """Validate SCENARIO (a file or a bundled name) and the names it uses in the world data."""
    from rareflow.model.errors import DataError
    from rareflow.scenario.loader import load_scenario
    from rareflow.scenario.world_check import validate_against_world

    if no_world and data_dir is not None:
        raise click.UsageError("--no-world and --data exclude each other")
    try:
        loaded = load_scenario(scenario)
        checked = None if no_world else _load_world(data_dir, loaded.world_name(world))
        if checked is not None:
            validate_against_world(loaded, checked)
    except DataError as exc:
        if emit_json({"ok": False, **_error_fields(exc)}, as_json=as_json, json_out=json_out):
            sys.exit(EXIT_BAD_INPUT)
        raise  # shown by the rareflow group exactly as 'rareflow run' shows it
    if resolved:
        click.echo(loaded.to_yaml())
        return
    counts = loaded.instrument_counts()
    result: dict[str, Any] = {
        "ok": True,
        "name": loaded.name,
        "lineage": list(loaded.lineage),
        "instruments": counts,
        "uncertain_inputs": len(loaded.uncertainty.distributions()),
        "checked_against_world": checked is not None,
    }
    if emit_json(result, as_json=as_json, json_out=json_out):
        return
    listed = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"
    world_note = (f"checked against world {checked.vintage}" if checked is not None
                  else "schema only (no world)")
    Console().print(
        f"[green]ok[/green] {escape(loaded.name)} ({escape(' <- '.join(loaded.lineage))}): "
        f"{len(loaded.policies)} policies ({listed}); "
        f"{result['uncertain_inputs']} uncertain inputs; {world_note}",
        highlight=False,
    )


def _error_fields(exc: DataError) -> dict[str, Any]:
    return {
        "error": exc.message,
        "file": exc.file,
        "line": exc.line,
        "record": exc.record,
        "field": exc.field,
        "suggestion": exc.suggestion,
    }


# --- rareflow scenarios schema ---------------------------------------------------------------
@click.command("schema")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the schema to this file instead of printing it.")
def schema_command(out_file: Path | None) -> None:
    """Print the JSON Schema of a scenario file (for YAML editors and other tools)."""
    from rareflow.scenario.schema import schema_text

    text = schema_text()
    if out_file is None:
        click.echo(text, nl=False)
        return
    out_file.write_text(text, encoding="utf-8")
    Console(stderr=True).print(f"wrote {out_file}", highlight=False)


def register(group: click.Group) -> None:
    """Add ``list`` and ``check`` to the ``rareflow scenarios`` group."""
    group.add_command(list_command)
    group.add_command(check_command)
    group.add_command(schema_command)
