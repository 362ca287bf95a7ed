"""``rareflow data check``: validate world data and print its headline figures.

Exit status 0 when the data is valid, 2 (with the :class:`DataError` message) when it is not:
invalid data is bad input, refused as ``rareflow run --data`` refuses it (see
:mod:`rareflow.cli.errors`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rareflow.cli.errors import EXIT_BAD_INPUT
from rareflow.cli.options import emit_json, json_options, world_option

if TYPE_CHECKING:  # the data modules are imported when the command runs (fast --help)
    from rareflow.data.summary import DataSummary


@click.command("check")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of override YAML files laid over the bundled data.",
)
@world_option
@click.option("--year", type=int, default=None, help="Year for capacities (default: base year).")
@json_options("the summary")
def check(data_dir: Path | None, world: str | None, year: int | None, as_json: bool,
          json_out: Path | None) -> None:
    """Validate the world data (bundled, or overlaid with --data) and summarise it."""
    from rareflow.data.loader import load_world
    from rareflow.data.summary import summarize
    from rareflow.model.errors import DataError
    from rareflow.model.world import DEFAULT_WORLD

    try:
        summary = summarize(load_world(data_dir, vintage=world or DEFAULT_WORLD), year)
    except DataError as error:
        if not emit_json({"ok": False, "error": str(error)}, as_json=as_json, json_out=json_out,
                         indent=None):
            click.echo(f"Invalid data: {error}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    if emit_json({"ok": True, **summary.to_dict()}, as_json=as_json, json_out=json_out):
        return
    render(summary, Console())


def render(summary: DataSummary, console: Console) -> None:
    """Print ``summary`` as rich tables."""
    console.print(
        f"[bold]{escape(summary.name)}[/bold] {escape(summary.version)} — valid. "
        f"Figures for {summary.year}."
    )
    counts = Table(title="Records")
    counts.add_column("kind")
    counts.add_column("count", justify="right")
    for kind, count in summary.counts.items():
        counts.add_row(kind, str(count))
    console.print(counts)

    mine = Table(title=f"Reported mine production {summary.year} (USGS MCS 2025, t REO)")
    mine.add_column("world", justify="right")
    mine.add_column("China", justify="right")
    mine.add_column("China share", justify="right")
    mine.add_column("United States", justify="right")
    world_t = summary.reported_mine_t
    share = summary.reported_mine_china_t / world_t if world_t else 0.0
    mine.add_row(
        f"{world_t:,.0f}",
        f"{summary.reported_mine_china_t:,.0f}",
        f"{share:.1%}",
        f"{summary.reported_mine_usa_t:,.0f}",
    )
    console.print(mine)

    capacity = Table(title=f"Capacity by stage, {summary.year} (t/y; magnets in t of magnet)")
    capacity.add_column("stage")
    capacity.add_column("world", justify="right")
    capacity.add_column("China", justify="right")
    capacity.add_column("China share", justify="right")
    for item in summary.capacity:
        capacity.add_row(
            item.stage, f"{item.world_t:,.0f}", f"{item.china_t:,.0f}", f"{item.china_share:.1%}"
        )
    console.print(capacity)

    demand = Table(title="Base-year demand")
    demand.add_column("sector / element")
    demand.add_column("tonnes", justify="right")
    for sector, tonnes in summary.magnet_demand_t.items():
        demand.add_row(f"{sector} (t magnet)", f"{tonnes:,.0f}")
    for element, tonnes in summary.oxide_demand_t.items():
        demand.add_row(f"other: {element} (t REO)", f"{tonnes:,.0f}")
    console.print(demand)

    balance = Table(title=f"Element balance, {summary.year} (t REO)")
    balance.add_column("element")
    balance.add_column("mined at capacity", justify="right")
    balance.add_column("in magnets demanded", justify="right")
    balance.add_column("other uses demanded", justify="right")
    for element, mined in summary.mined_by_element_t.items():
        balance.add_row(
            element,
            f"{mined:,.0f}",
            f"{summary.magnet_content_t.get(element, 0.0):,.0f}",
            f"{summary.oxide_demand_t.get(element, 0.0):,.0f}",
        )
    console.print(balance)
