"""Vocabularies used by instruments: element symbols, products, and id types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from rareflow.model.elements import ELEMENT_ALIASES, ELEMENTS, Element
from rareflow.model.errors import closest_name
from rareflow.model.world import World
from rareflow.scenario.base import ID_PATTERN

#: Products and stages an export control can name (``technology`` = process know-how, equipment;
#: ``mixed_heavy`` = the mixed heavy rare-earth concentrate that light separation leaves).
Product = Literal["concentrate", "oxide", "metal", "magnet", "mixed_heavy", "technology"]
#: Physical products that are traded between regions.
TradedProduct = Literal["concentrate", "oxide", "metal", "magnet", "mixed_heavy"]
#: Policy enforcement: ``constraint`` binds the market; ``benchmark`` is only reported as a metric.
Enforcement = Literal["constraint", "benchmark"]


def _check_element(symbol: str) -> str:
    if symbol not in ELEMENT_ALIASES:
        raise PydanticCustomError(
            "unknown_element",
            "unknown element '{value}'",
            {"value": symbol, "suggestion": closest_name(symbol, ELEMENT_ALIASES) or ""},
        )
    return symbol


#: A rare earth as named in policy texts (``Gd``, ``Lu``, ``Nd``...) or a tracked element
#: (``NdPr``, ``other_heavy``). :func:`tracked` maps it onto the model's elements.
ElementSymbol = Annotated[str, AfterValidator(_check_element)]

#: Id of a policy, facility or sector (lower case, digits and underscores).
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]

#: A region id (``USA``), a group (``EU``, ``allies``) or ``all`` where the field allows it.
Area = Annotated[str, Field(min_length=1)]

ALL = "all"


def tracked(symbols: Iterable[str]) -> tuple[Element, ...]:
    """Tracked elements covered by element ``symbols``, in the model's element order.

    Elements the model does not track one by one map onto their bucket via ``ELEMENT_ALIASES``:
    Gd, Ho, Er, Tm, Eu, Yb, Lu and Sc all map to ``other_heavy``.
    """
    wanted = {ELEMENT_ALIASES[symbol] for symbol in symbols}
    return tuple(element for element in ELEMENTS if element in wanted)


RefKind = Literal["region", "area", "facility", "sector", "operator"]


class Reference(NamedTuple):
    """A name an instrument takes from the world, for checks against a loaded dataset.

    ``kind``: ``region`` (a region id), ``area`` (a region id or group), ``facility``, ``sector``,
    ``operator`` (a company name as the facility data spell it).
    ``path`` locates the name inside the instrument (e.g. ``("destinations", 2)``).
    """

    kind: RefKind
    value: str
    path: tuple[str | int, ...]


def area_refs(field: str, values: Iterable[str]) -> list[Reference]:
    """References for a list-valued area field, skipping the keyword ``all``."""
    return [
        Reference("area", value, (field, index))
        for index, value in enumerate(values)
        if value != ALL
    ]


def expand_areas(areas: Iterable[str], world: World) -> list[str]:
    """Region ids named by ``areas`` (region ids, groups, or ``all``), in first-seen order."""
    names = list(areas)
    if ALL in names:
        return list(world.region_ids)
    seen: dict[str, None] = {}
    for area in names:
        seen.update(dict.fromkeys(world.group_members(area)))
    return list(seen)
