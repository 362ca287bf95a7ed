"""The ``rareflow`` command line: one group, with commands contributed by each area."""

from __future__ import annotations

import click

from rareflow.cli.compare import compare_command
from rareflow.cli.data import check as data_check
from rareflow.cli.ensemble import ensemble_command
from rareflow.cli.errors import EXIT_RULE, RareflowGroup
from rareflow.cli.export import export_command
from rareflow.cli.report import report_command
from rareflow.cli.run import run_command
from rareflow.cli.runs import register as register_run_commands
from rareflow.cli.scenarios import register as register_scenario_commands
from rareflow.cli.serve import serve_command
from rareflow.cli.validate import validate_command
from rareflow.version import __version__


@click.group(cls=RareflowGroup, epilog=EXIT_RULE)
@click.version_option(__version__, prog_name="rareflow")
def main() -> None:
    """Rare-earth supply chain model: data, market runs, scenarios, ensembles and reports.

    Every command shares one exit-status rule (see below and rareflow.cli.errors).
    """


main.add_command(run_command)
main.add_command(compare_command)
main.add_command(report_command)
main.add_command(serve_command)
main.add_command(ensemble_command)
main.add_command(validate_command)
main.add_command(export_command)


@main.group()
def data() -> None:
    """Inspect and validate world data."""


data.add_command(data_check)


@main.group()
def scenarios() -> None:
    """List and validate scenarios."""


register_scenario_commands(scenarios)


@main.group()
def runs() -> None:
    """List, show and delete runs in the run store."""


register_run_commands(runs)
