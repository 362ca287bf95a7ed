"""Errors that point at the faulty input, and a helper that suggests the closest valid name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


def closest_name(name: str, valid: Iterable[str]) -> str | None:
    """Return the valid name closest to ``name`` (case-insensitive), or None if none is close."""
    options = list(valid)
    lowered = {option.lower(): option for option in options}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[matches[0]] if matches else None


class DataError(ValueError):
    """Invalid world data or scenario input, naming the file, line, record and field at fault."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.record = record
        self.field = field
        self.suggestion = suggestion
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.record:
            where.append(f"record '{self.record}'")
        if self.field:
            where.append(f"field '{self.field}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


def unknown_name_error(
    kind: str,
    name: str,
    valid: Iterable[str],
    *,
    record: str | None = None,
    field: str | None = None,
) -> DataError:
    """Build a :class:`DataError` for a reference to an unknown ``kind`` with the closest name."""
    return DataError(
        f"unknown {kind} '{name}'",
        record=record,
        field=field,
        suggestion=closest_name(name, valid),
    )
