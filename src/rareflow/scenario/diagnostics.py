"""Turn pydantic validation errors into :class:`DataError` naming file, line, field and fix."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from rareflow.model.errors import DataError, closest_name
from rareflow.model.yamlio import Path_, SourceMap

MAX_LISTED = 3


def format_path(path: Path_) -> str:
    """``("policies", 2, "elements", 0)`` as ``policies[2].elements[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def data_path(loc: tuple[int | str, ...], data: Any) -> Path_:
    """The part of a pydantic ``loc`` that exists in ``data`` (union tags are skipped)."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        else:
            continue
        path.append(part)
    return tuple(path)


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _record(path: Path_, data: Any) -> str | None:
    """The id of the policy a path lies in, if any."""
    if len(path) >= 2 and path[0] == "policies" and isinstance(data, dict):
        policies = data.get("policies")
        index = path[1]
        if isinstance(policies, list) and isinstance(index, int) and index < len(policies):
            item = policies[index]
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                return str(item["id"])
    return None


def _describe(error: ErrorDetails, data: Any) -> tuple[Path_, str, str | None]:
    """Path in the data, message and suggestion for one pydantic error."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    path = data_path(error["loc"], data)
    suggestion = ctx.get("suggestion") or None
    given = error.get("input")
    if "at" in ctx:
        extra = tuple(int(p) if p.isdigit() else p for p in str(ctx["at"]).split("."))
        full: Path_ = (*path, *extra)
        if kind == "unknown_field":
            return full, f"unknown field '{ctx['at']}'", suggestion
        return full, str(ctx.get("message") or error["msg"]), suggestion
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = _quoted(str(ctx.get("discriminator", "'type'")))[0]
        what = "instrument" if key == "type" else "distribution"
        options = _quoted(str(ctx.get("expected_tags", "")))
        if kind == "union_tag_not_found":
            return path, f"missing '{key}' (one of: {', '.join(options)})", None
        tag = str(ctx.get("tag"))
        message = f"unknown {what} {key} '{tag}'"
        return (*path, key), message, closest_name(tag, options)
    if kind == "literal_error":
        options = _quoted(str(ctx.get("expected", "")))
        message = f"invalid value {given!r}: {error['msg']}"
        return path, message, closest_name(str(given), options) if options else None
    if kind == "missing":
        missing = error["loc"][-1] if error["loc"] else "?"
        return (*path, missing), f"missing required field '{missing}'", None
    message = error["msg"]
    if kind.startswith("value_error"):
        message = message.removeprefix("Value error, ")
    short = isinstance(given, str | int | float) and len(str(given)) < 60
    if short and not isinstance(given, bool) and str(given) not in message:
        message += f" (got {given!r})"
    return path, message, suggestion


def validation_error(exc: ValidationError, data: Any, source: SourceMap) -> DataError:
    """A :class:`DataError` for the first problem in ``exc``, listing a few others."""
    errors = exc.errors(include_url=False)
    described = [_describe(error, data) for error in errors]
    path, message, suggestion = described[0]
    others = []
    for other_path, other_message, _ in described[1 : MAX_LISTED + 1]:
        _, line = source.locate(other_path)
        others.append(f"line {line} {format_path(other_path)}: {other_message}")
    if others:
        more = len(described) - 1
        message += f" [{more} more problem{'s' if more > 1 else ''}: " + "; ".join(others) + "]"
    file, line = source.locate(path)
    return DataError(
        message,
        file=file,
        line=line,
        record=_record(path, data),
        field=format_path(path) or None,
        suggestion=suggestion,
    )
