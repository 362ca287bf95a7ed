"""Option parsing shared by the ``rareflow`` commands."""

from __future__ import annotations

from pathlib import Path

import click


def parse_years(text: str | None, option: str = "--years") -> list[int] | None:
    """``START-END`` or ``YEAR`` as the list of years it spans (None when not given)."""
    if text is None:
        return None
    start, _, end = text.partition("-")
    try:
        first, last = int(start), int(end or start)
    except ValueError:
        raise click.BadParameter(f"expected YEAR or START-END, got '{text}'",
                                 param_hint=f"'{option}'") from None
    if last < first:
        raise click.BadParameter(f"end year {last} is before start year {first}",
                                 param_hint=f"'{option}'")
    return list(range(first, last + 1))


#: The ``--store`` option of every command that uses the run store (defaults to
#: ``RAREFLOW_STORE`` when set, else ``./rareflow-runs``).
store_option = click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rareflow-runs"),
    show_default=True,
    envvar="RAREFLOW_STORE",
    help="Run store folder (or set RAREFLOW_STORE).",
)
