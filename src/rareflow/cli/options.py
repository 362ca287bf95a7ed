"""Option parsing shared by the ``rareflow`` commands."""

from __future__ import annotations

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
