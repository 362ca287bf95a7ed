"""The regions and blocs the report's time series can be switched between, and the switch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from rareflow.model.world import World

#: (label, region or group name) in menu order; names the world does not know are skipped.
DEFAULT_AREAS: tuple[tuple[str, str], ...] = (
    ("United States", "USA"),
    ("EU", "EU"),
    ("US and allies", "allies"),
    ("Japan", "JPN"),
    ("China", "CHN"),
)


@dataclass(frozen=True)
class Area:
    """A region or bloc: a label and its member region ids (``None`` = the whole world)."""

    label: str
    members: tuple[str, ...] | None


WORLD = Area("World", None)


def focus_areas(
    world: World, regions: Sequence[str], *, include_world: bool = False,
    first: str | None = None,
) -> list[Area]:
    """The :data:`DEFAULT_AREAS` the world defines with members in ``regions``.

    ``first`` (a region or group name) moves that area to the front; ``include_world`` adds
    :data:`WORLD` at the front.
    """
    present = set(regions)
    areas: list[tuple[str, Area]] = []
    for label, name in DEFAULT_AREAS:
        try:
            members = tuple(r for r in world.group_members(name) if r in present)
        except ValueError:
            continue
        if members:
            areas.append((name, Area(label, members)))
    if first is not None:
        areas.sort(key=lambda item: item[0] != first)
    result = [area for _, area in areas]
    return [WORLD, *result] if include_world else result


def add_area_menu(fig: go.Figure, labels: Sequence[str], traces_per_area: Sequence[int]) -> None:
    """A dropdown that shows one area's traces at a time (traces are added area by area)."""
    total = sum(traces_per_area)
    buttons = []
    start = 0
    for label, count in zip(labels, traces_per_area, strict=True):
        visible = [start <= i < start + count for i in range(total)]
        buttons.append({"label": label, "method": "restyle", "args": [{"visible": visible}]})
        start += count
    first = traces_per_area[0] if traces_per_area else 0
    for i, trace in enumerate(fig.data):
        trace.visible = i < first
    if len(labels) > 1:
        fig.update_layout(updatemenus=[{
            "buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.12,
            "yanchor": "bottom", "showactive": True, "active": 0,
        }])
