"""The ``rareflow`` command line: one group, with commands contributed by each area."""

from __future__ import annotations

import click

from rareflow import __version__


@click.group()
@click.version_option(__version__, prog_name="rareflow")
def main() -> None:
    """Rare-earth supply chain model: data, market runs, scenarios, ensembles and reports."""


@main.group()
def data() -> None:
    """Inspect and validate world data."""


@main.group()
def scenarios() -> None:
    """List and validate scenarios."""


@main.group()
def runs() -> None:
    """List, show and delete runs in the run store."""
