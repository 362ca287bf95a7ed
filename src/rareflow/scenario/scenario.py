"""The scenario: a named set of policies, overrides and uncertain inputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import Field, PrivateAttr, model_validator

from rareflow.model.errors import DataError, closest_name
from rareflow.model.world import DEFAULT_WORLD
from rareflow.model.yamlio import SourceMap, dump_yaml
from rareflow.scenario.base import StrictModel, located_error
from rareflow.scenario.dates import YearRange
from rareflow.scenario.instruments import Instrument, InstrumentBase
from rareflow.scenario.names import Identifier, Reference
from rareflow.scenario.overrides import Overrides
from rareflow.scenario.uncertainty import Uncertainty

if TYPE_CHECKING:
    from rareflow.model.world import World

InstrumentT = TypeVar("InstrumentT", bound=InstrumentBase)

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
#: Years a scenario runs when it gives none.
DEFAULT_YEARS = range(2024, 2041)
#: Years past a world's base year that it can be projected to: its demand growth, capacity
#: schedules and stock model are stated up to 2050 for the 2024 world.
HORIZON_YEARS = 26


def valid_years(world: World) -> range:
    """The years ``world`` can simulate: its base year to :data:`HORIZON_YEARS` later."""
    base = world.provenance.base_year
    return range(base, base + HORIZON_YEARS + 1)


class Scenario(StrictModel):
    """A scenario as written in YAML (see ``docs`` and the bundled library in ``scenarios/``).

    ``extends`` names a parent scenario (a bundled name or a path relative to this file); the
    loader merges it: the child's ``name``, ``description`` and ``years`` win, ``policies``
    concatenate (a child policy with a parent's ``id`` replaces it; ``drop_policies`` removes
    parent policies by id), and ``overrides`` and ``uncertainty`` merge key by key. A loaded
    scenario is always resolved: ``extends`` is None and ``drop_policies`` empty.

    ``extends`` may list several parents (``extends: [a, b]``). Merge rule: the parents are
    folded left to right, each later parent merging over the earlier ones exactly as a child
    over its parent - policies concatenate in order and a later parent's policy with the same
    ``id`` replaces the earlier one in place; ``years`` come from the last parent that sets them;
    ``overrides`` and ``uncertainty`` merge key by key, the later parent winning - and then the
    child merges over the result (its fields win, its ``drop_policies`` may drop any parent's
    policy). Parents' ``name`` and ``description`` are never inherited.
    """

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=1, max_length=240, pattern=r"^[^\n]*$")
    extends: str | tuple[str, ...] | None = Field(
        default=None, description="parent scenario name, or a list of parents merged in order")
    drop_policies: tuple[Identifier, ...] = ()
    world: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=40,
        description="the world (data vintage) the scenario runs on, e.g. '2010'; default '2024'")
    years: YearRange | None = None
    policies: tuple[Instrument, ...] = ()
    overrides: Overrides = Field(default_factory=Overrides)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)

    _source: SourceMap | None = PrivateAttr(default=None)
    _lineage: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        seen: set[str] = set()
        for index, policy in enumerate(self.policies):
            if policy.id in seen:
                raise located_error(f"policies.{index}.id", f"duplicate policy id '{policy.id}'")
            seen.add(policy.id)
        by_id = {policy.id: policy for policy in self.policies}
        for key, timing in self.uncertainty.policy_timing.items():
            for index, policy_id in enumerate(timing.policy_ids(key)):
                at = f"uncertainty.policy_timing.{key}" + (
                    f".policies.{index}" if timing.policies else ""
                )
                if policy_id not in by_id:
                    raise located_error(
                        at, f"unknown policy '{policy_id}'", closest_name(policy_id, by_id)
                    )
                if timing.shift_months is not None and not by_id[policy_id].can_shift():
                    raise located_error(
                        at, f"policy '{policy_id}' has neither a start nor a suspension to shift"
                    )
        return self

    # --- access -------------------------------------------------------------------------------
    def with_timing(self, draw: dict[str, float]) -> Scenario:
        """A copy with policy timing set by one draw of :meth:`Uncertainty.sample`."""
        changed: dict[str, InstrumentBase] = {}
        for key, timing in self.uncertainty.policy_timing.items():
            applies = draw.get(f"policy_timing.{key}.applies", 1.0) == 1.0
            shift = draw.get(f"policy_timing.{key}.shift_months", 0.0)
            for policy_id in timing.policy_ids(key):
                changed[policy_id] = self.policy(policy_id).with_timing(applies, shift)
        policies = tuple(changed.get(policy.id, policy) for policy in self.policies)
        copy = self.model_copy(update={"policies": policies})
        copy._source, copy._lineage = self._source, self._lineage
        return copy

    def with_origin(
        self, lineage: tuple[str, ...], source: SourceMap | None = None
    ) -> Scenario:
        """A copy that records where it came from: its ``lineage`` and YAML ``source`` map.

        The loader gives a loaded scenario its file lines and ``extends`` chain; a scenario
        derived in code (the dashboard's levers) gives its own name over its base's lineage.
        """
        copy = self.model_copy()
        copy._source, copy._lineage = source, lineage
        return copy

    def world_name(self, requested: str | None = None) -> str:
        """The world to run on: the scenario's ``world``, else ``requested``, else '2024'.

        ``requested`` is the caller's choice (``--world``); naming another world than the
        scenario's own is refused with :class:`DataError` at the scenario's ``world`` line.
        """
        if requested is not None and self.world is not None and requested != self.world:
            file = line = None
            if self.source is not None:
                file, line = self.source.locate(("world",))
            raise DataError(
                f"scenario '{self.name}' runs on world '{self.world}', not '{requested}' "
                f"(drop --world, or give --world {self.world})",
                file=file, line=line, field="world")
        return self.world or requested or DEFAULT_WORLD

    def run_years(
        self, world: World | None = None, requested: Iterable[int] | None = None
    ) -> range:
        """The years to run: ``requested``, else the scenario's own ``years``, else 2024-2040.

        A world with another base year runs from its base year for as many years by default.

        With ``world`` the years must lie in :func:`valid_years` (the world's base year to its
        horizon); :class:`DataError` names the range otherwise. This is the one rule that
        ``rareflow run``, ``rareflow ensemble``, the dashboard and the Python API share.
        """
        if requested is not None:
            wanted = sorted({int(year) for year in requested})
            if not wanted:
                raise DataError("no years to simulate")
            if wanted != list(range(wanted[0], wanted[-1] + 1)):
                raise DataError(f"years must be consecutive, got {wanted}")
            years = range(wanted[0], wanted[-1] + 1)
        else:
            years = self.years.years() if self.years is not None else DEFAULT_YEARS
            if self.years is None and world is not None:
                start = world.provenance.base_year
                years = range(start, start + len(DEFAULT_YEARS))
        if world is not None:
            self._check_years(years, world, own=requested is None and self.years is not None)
        return years

    def _check_years(self, years: range, world: World, *, own: bool) -> None:
        valid = valid_years(world)
        if years[0] in valid and years[-1] in valid:
            return
        span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
        file = line = None
        if own and self.source is not None:
            file, line = self.source.locate(("years",))
        raise DataError(
            f"years {span} are outside the range the world can simulate: {valid[0]}-{valid[-1]} "
            f"(its base year {world.provenance.base_year} to {HORIZON_YEARS} years ahead)",
            file=file, line=line, field="years" if own else None,
        )

    def policy(self, policy_id: str) -> InstrumentBase:
        """The policy with ``policy_id``."""
        for policy in self.policies:
            if policy.id == policy_id:
                return policy
        suggestion = closest_name(policy_id, [p.id for p in self.policies])
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        raise KeyError(f"no policy '{policy_id}' in scenario '{self.name}'{hint}")

    def policies_of(self, kind: type[InstrumentT]) -> list[InstrumentT]:
        """Policies of one instrument class, e.g. ``scenario.policies_of(ExportControl)``."""
        return [policy for policy in self.policies if isinstance(policy, kind)]

    def instrument_counts(self) -> dict[str, int]:
        """Number of policies per instrument type."""
        return dict(Counter(policy.type for policy in self.policies))

    def references(self) -> list[Reference]:
        """Every world name the scenario uses, with its path from the scenario root."""
        refs: list[Reference] = []
        for index, policy in enumerate(self.policies):
            refs += [
                ref._replace(path=("policies", index, *ref.path)) for ref in policy.references()
            ]
        refs += [ref._replace(path=("overrides", *ref.path)) for ref in self.overrides.references()]
        refs += [
            ref._replace(path=("uncertainty", *ref.path)) for ref in self.uncertainty.references()
        ]
        return refs

    @property
    def source(self) -> SourceMap | None:
        """Where each value came from (file and line), when loaded from YAML."""
        return self._source

    @property
    def lineage(self) -> tuple[str, ...]:
        """Names from this scenario up through the scenarios it extends."""
        return self._lineage or (self.name,)

    # --- I/O ----------------------------------------------------------------------------------
    def to_plain(self) -> dict[str, Any]:
        """The scenario as plain YAML-ready data (tuples as lists, no None values)."""
        data = self.model_dump(mode="python", by_alias=True, exclude_none=True)
        if not data.get("drop_policies"):
            data.pop("drop_policies", None)
        data["policies"] = [_head_first(policy) for policy in data.get("policies", [])]
        plain = _plain(data)
        assert isinstance(plain, dict)
        return plain

    def to_yaml(self) -> str:
        """The fully resolved scenario as YAML text; loading it gives an equal scenario."""
        lineage = " <- ".join(self.lineage)
        header = f"# rareflow scenario '{self.name}', resolved from: {lineage}\n"
        return header + dump_yaml(self.to_plain())


def _head_first(policy: dict[str, Any]) -> dict[str, Any]:
    """A policy mapping with ``id`` and ``type`` first, for readable YAML."""
    head: dict[str, Any] = {key: policy[key] for key in ("id", "type") if key in policy}
    return {**head, **{key: value for key, value in policy.items() if key not in head}}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
