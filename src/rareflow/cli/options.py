"""Option parsing shared by the ``rareflow`` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

_F = TypeVar("_F", bound=Callable[..., Any])


#: The default ``--years`` of ``run`` and ``ensemble`` as help text; written out so that
#: ``--help`` needs no model import (a test checks it against ``scenario.DEFAULT_YEARS``).
DEFAULT_YEARS_TEXT = "2024-2040"


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


#: The ``--world`` option of every command that loads world data (a scenario's own ``world``
#: wins; naming another one is refused). Names are checked when the command runs.
world_option = click.option(
    "--world", "world", default=None, metavar="NAME",
    help="World (data vintage) to use: 2024 (today's, the default) or another bundled one, "
         "e.g. 2010. A scenario that names its world runs on it.",
)


def json_options(what: str = "the result") -> Callable[[_F], _F]:
    """``--json`` (a flag: print JSON on stdout instead of tables) and ``--json-out FILE``.

    The same two options on every command with JSON output; the command receives them as
    ``as_json: bool`` and ``json_out: Path | None`` and hands both to :func:`emit_json`.
    """

    def decorate(command: _F) -> _F:
        command = click.option(
            "--json-out", "json_out", type=click.Path(path_type=Path, dir_okay=False),
            default=None, metavar="FILE",
            help=f"Also write {what} as JSON to FILE (the table is still printed).",
        )(command)
        return click.option("--json", "as_json", is_flag=True,
                            help=f"Print {what} as JSON on stdout instead of a table.")(command)

    return decorate


def emit_json(data: Any, *, as_json: bool, json_out: Path | None, indent: int | None = 2,
              ensure_ascii: bool = True) -> bool:
    """Write ``data`` to ``json_out`` when given, print it when ``as_json``; True if printed.

    The file is written first, so ``--json --json-out F`` prints and writes the same text.
    """
    from rareflow.cli.jsonout import to_json

    if not as_json and json_out is None:
        return False
    text = to_json(data, indent=indent, ensure_ascii=ensure_ascii)
    if json_out is not None:
        try:
            json_out.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise click.ClickException(
                f"cannot write --json-out {json_out}: {error.strerror or error}") from None
    if as_json:
        click.echo(text)
    return as_json
