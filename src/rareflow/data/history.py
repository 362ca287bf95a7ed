"""Read the historical record (``rareflow/data/history/record.yaml``) that backtests are judged by.

The file is one mapping with a ``series`` list (what is observed and how the model's value is
computed) and a ``points`` list (observed values, each cited); see
:mod:`rareflow.model.history`. Every error is a :class:`DataError` naming file, line, record and
field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rareflow.model.errors import DataError
from rareflow.model.history import HistoricalRecord, RecordPoint, Series
from rareflow.model.yamlio import LineList, LineMap, parse_yaml_lines

#: The bundled record, inside the ``rareflow.data`` package.
RECORD_FILE = "history/record.yaml"
#: Its optional hand-written commentary (markdown), shown on the validation page.
COMMENTARY_FILE = "history/commentary.md"


def bundled_record_path() -> Path | None:
    """Path of the bundled record, or None when this build has none."""
    resource = resources.files("rareflow.data").joinpath(RECORD_FILE)
    return Path(str(resource)) if resource.is_file() else None


def bundled_commentary() -> str | None:
    """The bundled commentary on the backtest (markdown), or None."""
    resource = resources.files("rareflow.data").joinpath(COMMENTARY_FILE)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def load_record(path: Path | None = None) -> HistoricalRecord:
    """The record at ``path`` (default: the bundled one), validated.

    Raises :class:`DataError` when the file is missing or any series or point is invalid.
    """
    if path is None:
        path = bundled_record_path()
        if path is None:
            raise DataError("no historical record is bundled", file=RECORD_FILE)
    if not path.is_file():
        raise DataError("historical record not found", file=path)
    content = parse_yaml_lines(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(content, LineMap) or set(content) - {"series", "points"}:
        raise DataError("expected a mapping with 'series' and 'points' lists", file=path,
                        line=getattr(content, "line", 1))
    series = [_item(Series, item, path, "series") for item in _list(content, "series", path)]
    points = [_item(RecordPoint, item, path, "points") for item in _list(content, "points", path)]
    try:
        return HistoricalRecord(series=tuple(series), points=tuple(points))
    except ValidationError as error:
        cause = (error.errors()[0].get("ctx") or {}).get("error")
        if isinstance(cause, DataError):
            raise DataError(cause.message, file=path, line=_line_of(content, cause.record),
                            record=cause.record, field=cause.field,
                            suggestion=cause.suggestion) from None
        raise DataError(str(error.errors()[0]["msg"]), file=path) from None


def _list(content: LineMap, key: str, path: Path) -> list[Any]:
    items = content.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise DataError(f"'{key}' must be a YAML list", file=path, line=content.line_of(key),
                        field=key)
    return items


def _item(model: type[BaseModel], item: Any, path: Path, key: str) -> Any:
    if not isinstance(item, LineMap):
        raise DataError(f"each entry of '{key}' must be a mapping", file=path)
    try:
        return model.model_validate(_plain(item))
    except ValidationError as error:
        first = error.errors()[0]
        cause = (first.get("ctx") or {}).get("error")
        message = cause.message if isinstance(cause, DataError) else str(first["msg"])
        field = (cause.field if isinstance(cause, DataError) else
                 ".".join(str(part) for part in first["loc"]) or None)
        top = field.split(".")[0] if field else None
        label = item.get("id") or f"{item.get('series')}/{item.get('year')}"
        raise DataError(message.removeprefix("Value error, "), file=path,
                        line=item.line_of(top) if top else item.line, record=str(label),
                        field=field) from None


def _plain(value: Any) -> Any:
    """YAML lists as tuples (the models are frozen), mappings as plain dicts."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_plain(item) for item in value)
    return value


def _line_of(content: LineMap, record: str | None) -> int | None:
    """Line of the series or point ``record`` names (``id`` or ``series/year``)."""
    for key in ("series", "points"):
        items = content.get(key)
        if not isinstance(items, LineList):
            continue
        for item in items:
            if not isinstance(item, LineMap):
                continue
            label = (item.get("id") if key == "series"
                     else f"{item.get('series')}/{item.get('year')}")
            if str(label) == record:
                return item.line
    return None
