"""Regions (countries as network nodes) and the groupings they belong to."""

from __future__ import annotations

from pydantic import Field, field_validator

from rareflow.model.sourced import Sourced


class Region(Sourced):
    """A country (or the rest of the world) acting as a node of the supply network.

    ``groups`` lists the blocs it belongs to (``EU``, ``allies`` for the Minerals Security
    Partnership and close US partners, ...). Exactly one region must be China (``is_china``): its
    mined or separated output carries the ``china`` origin tag.
    """

    id: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 code, or ROW")
    name: str
    groups: tuple[str, ...] = ()
    is_china: bool = False

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(groups)) != len(groups):
            raise ValueError(f"groups repeat a name: {list(groups)}")
        return groups
