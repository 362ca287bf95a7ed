"""Markdown tables of pydantic models' fields, for the generated documentation pages.

The scenario language reference (:mod:`rareflow.scenario.reference_doc`) and the data guide
(:mod:`rareflow.data.guide_doc`) describe their YAML keys from the models that validate them, so
the pages cannot drift from the code: one row per key with its type, unit, default and meaning.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import types
import typing
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_ROLE = re.compile(r":[a-z]+:`([^`]+)`")

#: Units read off a key's name: (suffix or whole name, unit), first match wins.
_NAME_UNITS: tuple[tuple[str, str], ...] = (
    ("_usd_per_kg", "USD/kg"),
    ("_usd_m", "million USD"),
    ("_t_per_y", "t/y"),
    ("_pct", "%"),
    ("_months", "months"),
    ("_years", "years"),
    ("_year", "calendar year"),
    ("_share", "fraction 0–1"),
    ("share", "fraction 0–1"),
    ("_rate", "fraction 0–1"),
    ("_t", "t"),
    ("_kg_per_t", "kg/t"),
    ("recovery", "fraction 0–1"),
    ("de_minimis", "fraction 0–1"),
    ("ad_valorem", "fraction of value"),
    ("loss_given_default", "fraction 0–1"),
)


def unit_of(name: str, annotation: Any) -> str:
    """The unit a key's name declares (``floor_usd_per_kg`` → USD/kg), or ``""``.

    Dates and nested models have none (their type says it); ``years`` alone is a duration in
    years, or a list of calendar years when it holds several values.
    """
    if _is_date(annotation) or _is_model(annotation):
        return ""
    if name == "years":
        return "calendar years" if _is_sequence(annotation) else "years"
    if name in ("year", "base_year"):
        return "calendar year"
    for suffix, unit in _NAME_UNITS:
        if name == suffix.lstrip("_") or name.endswith(suffix):
            return unit
    return ""


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_date(annotation: Any) -> bool:
    base = _strip(annotation)
    members = get_args(base) if _is_union(base) else (base,)
    return any(_strip(member) is dt.date for member in members)


def _is_model(annotation: Any) -> bool:
    base = _strip(annotation)
    members = get_args(base) if _is_union(base) else (base,)
    return any(inspect.isclass(m) and issubclass(m, BaseModel) for m in members)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (typing.Union, types.UnionType)


def _is_sequence(annotation: Any) -> bool:
    base = _strip(annotation)
    members = get_args(base) if _is_union(base) else (base,)
    return any(get_origin(_strip(m)) in (tuple, list) for m in members)


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type, as a YAML author sees it."""
    annotation = _strip(annotation)
    if annotation is type(None):
        return "null"
    if _is_date(annotation) and _is_union(annotation):
        rest = [m for m in get_args(annotation) if _strip(m) not in (dt.date, int)]
        return " or ".join(["date or year", *(type_name(m) for m in rest)])
    if _is_union(annotation):
        return " or ".join(dict.fromkeys(type_name(m) for m in get_args(annotation)))
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(annotation))
    if origin in (tuple, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping {type_name(key)} → {type_name(value)}"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    names = {bool: "bool", int: "int", float: "number", str: "text", dt.date: "date"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(info: FieldInfo) -> str:
    """Constraints such as ``> 0`` or ``≤ 1`` from a field's metadata."""
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "min length",
               "max_length": "max length"}
    parts = []
    for item in info.metadata:
        for attr, symbol in symbols.items():
            value = getattr(item, attr, None)
            if value is not None and isinstance(item, annotated_types.BaseMetadata):
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def default_text(info: FieldInfo) -> str:
    """The default as YAML would spell it; *required* when there is none."""
    if info.is_required():
        return "*required*"
    if info.default_factory is not None:
        return "empty"
    value = info.default
    if value is PydanticUndefined or value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "empty" if not value else "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def field_rows(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
    """Markdown table (header included) of ``model``'s keys: type, unit, default, meaning."""
    rows = ["| key | type | unit | default | constraints | meaning |",
            "|---|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skip:
            continue
        rows.append(
            f"| `{key}` | {_cell(type_name(info.annotation))} | {unit_of(key, info.annotation)} "
            f"| {default_text(info)} | {_cell(_bounds(info))} "
            f"| {_cell(info.description or '')} |")
    return rows


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """Models that ``model``'s fields hold (in lists, mappings or unions too), in field order."""
    found: dict[type[BaseModel], None] = {}

    def visit(annotation: Any) -> None:
        annotation = _strip(annotation)
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            found[annotation] = None
        for arg in get_args(annotation):
            visit(arg)

    for info in model.model_fields.values():
        visit(info.annotation)
    return list(found)


def docstring(model: type[Any]) -> str:
    """The class docstring, dedented, with reST markup made Markdown (roles become code)."""
    text = (inspect.getdoc(model) or "").replace("``", "`")
    return _ROLE.sub(lambda match: f"`{match.group(1).lstrip('~')}`", text)
