"""Shared machinery of policy effects: the per-year context, price lookups, column tables.

Every instrument type has one *effect* (a subclass of :class:`Effect`) that handles all the
scenario's policies of that type at once, vectorised over LP families:

* ``declare(network)`` adds the type's policy rows (and penalty slack columns) once per world;
* ``adjust(ctx)`` changes the year's inputs and records costs, bans and row bounds in the
  :class:`YearContext`; rows a policy does not bind in a year stay relaxed (``-inf..inf``) and
  slack columns stay at zero;
* ``observe(values, year)`` sees the column values of each solve (used for reference volumes);
* ``account(ctx)`` returns the year's fiscal cost (USD million) and shortfall (t) per policy.

Prices come from the *reference* dataset: last year's result, or in the first simulated year an
unpolicied solve of that year (a probe), so myopic rules such as ad-valorem tariffs and price
floors are defined from the very first year. The probe is solved only when some effect reads a
reference (:meth:`Effect.needs_reference`).
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from rareflow.engine.carried import LabelPositions
from rareflow.engine.inputs import YearInputs
from rareflow.engine.lpcore import INF, Family
from rareflow.engine.market import Adjustments
from rareflow.engine.network import Network
from rareflow.engine.schedule import Schedule
from rareflow.engine.simulate import SimulationState
from rareflow.model.world import World
from rareflow.scenario.instruments import InstrumentBase
from rareflow.scenario.names import ALL, expand_areas

PolicyT = TypeVar("PolicyT", bound=InstrumentBase)

#: Price stage (``price`` coordinate) of each traded product.
PRICE_STAGE = {"concentrate": "concentration", "oxide": "separation", "metal": "metal"}


def local_table(family: Family) -> pd.DataFrame:
    """The family's key table with ``local`` (position in the family) and ``col`` (global id)."""
    table = family.keys.copy()
    table["local"] = np.arange(family.size, dtype=np.int64)
    table["col"] = family.ids
    return table


def traded_columns(network: Network, product: str) -> pd.DataFrame:
    """Ship columns of ``product`` with the t REO of each element they carry per unit.

    Columns: ``local``, ``col``, ``exporter``, ``importer``, ``element``, ``origin``,
    ``grade_id`` (magnets; '' otherwise) and ``coef`` (t REO of ``element`` per unit of the
    column: 1 for oxide and metal, the deposit share for concentrate, the recipe content for
    magnets, whose columns therefore appear once per element they contain).
    """
    shipments = network.shipments
    table = shipments.loc[(shipments["product"] == product) & (shipments.coef > 0)]
    columns = ["local", "col", "exporter", "importer", "element", "origin", "grade_id", "coef"]
    return table[columns].reset_index(drop=True)


def areas(world: World, names: Sequence[str] | str) -> list[str]:
    """Region ids named by region ids, groups or ``all``."""
    return expand_areas([names] if isinstance(names, str) else names, world)


def area_or_all(world: World, name: str) -> list[str]:
    """Region ids of one area field that accepts ``all``."""
    return list(world.region_ids) if name == ALL else areas(world, name)


def _year_slice(data: xr.DataArray) -> xr.DataArray:
    return data.isel(year=0) if "year" in data.dims else data


class PricedRows:
    """A fixed table whose rows are priced every year, with its labels' positions kept.

    An effect makes one per table of columns it prices each year (the table must not change
    afterwards). Every year's result shares its coordinate indexes with the year before (one
    result plan per market), so the positions of the table's labels in them are found once and
    kept while the indexes are the same objects.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self._labels: dict[str, list[object]] = {}
        self._positions: dict[tuple[str, int, str], LabelPositions] = {}

    def __len__(self) -> int:
        return len(self.table)

    def codes(self, grid: _PriceGrid, columns: tuple[str, ...]) -> list[np.ndarray]:
        """Position of each row's label in each of ``grid``'s indexes (−1 where absent).

        ``columns`` name the table's column for each of the grid's dimensions, in order.
        """
        codes = []
        for axis, (index, column) in enumerate(zip(grid.indexes, columns, strict=True)):
            labels = self._labels.get(column)
            if labels is None:
                labels = self._labels[column] = self.table[column].tolist()
            positions = self._positions.setdefault((grid.name, axis, column), LabelPositions())
            codes.append(positions(index, labels))
        return codes


def _rows(table: PricedRows | pd.DataFrame) -> PricedRows:
    return table if isinstance(table, PricedRows) else PricedRows(table)


def lookup_price(
    reference: xr.Dataset | None, stage: str, table: PricedRows | pd.DataFrame,
    region: str = "region",
) -> np.ndarray:
    """Price (USD/kg) per row of ``table`` (``region``, ``element``, ``origin`` columns).

    Missing prices (a node without a balance row) fall back to the highest price of the element
    anywhere, then to 0. Negative duals (disposal) count as 0. A table priced every year is
    best passed as :class:`PricedRows`, which keeps its label positions.
    """
    if reference is None or len(table) == 0:
        return np.zeros(len(table))
    grid = _price_grids.get(reference, "price", stage)
    return _gather(grid, _rows(table), (region, "element", "origin"))


def lookup_magnet_price(
    reference: xr.Dataset | None, table: PricedRows | pd.DataFrame, region: str = "region"
) -> np.ndarray:
    """Magnet price (USD/kg magnet) per row of ``table`` (``region`` and ``grade_id``)."""
    if reference is None or len(table) == 0:
        return np.zeros(len(table))
    grid = _price_grids.get(reference, "magnet_price", None)
    return _gather(grid, _rows(table), (region, "grade_id"))


#: Dimensions of each price variable as the lookups read it; the second one is the fallback's
#: (a missing price is the highest of the row's element, or grade, anywhere).
_PRICE_DIMS = {"price": ("region", "element", "origin"), "magnet_price": ("region", "grade")}
_FALLBACK_AXIS = 1


@dataclass(frozen=True)
class _PriceGrid:
    """One price variable of a result as a plain array, with its indexes and fallbacks."""

    name: str
    values: np.ndarray
    indexes: tuple[pd.Index, ...]
    #: Highest price of each label of the fallback dimension anywhere (NaN where none).
    best: np.ndarray


class _PriceGrids:
    """The price arrays of result datasets, made once per (dataset, variable, stage).

    Every policy looks up prices in the same reference dataset each year, and selecting,
    transposing and reducing it through xarray cost more than the lookups themselves. Entries
    are dropped when their dataset is collected (datasets are not hashable, so they are kept by
    id with a finaliser) and used only while its variable is the same object, so a dataset
    whose price variable was replaced is read again.
    """

    def __init__(self) -> None:
        self._grids: dict[int, dict[tuple[str, str | None], tuple[object, _PriceGrid]]] = {}
        self._lock = threading.Lock()

    def get(self, dataset: xr.Dataset, name: str, stage: str | None) -> _PriceGrid:
        """The grid of ``dataset[name]`` (at ``stage`` when given), first year if any."""
        variable = dataset.variables[name]
        key = id(dataset)
        with self._lock:
            entry = self._grids.get(key, {}).get((name, stage))
        if entry is not None and entry[0] is variable:
            return entry[1]
        grid = _price_grid(dataset, name, stage)
        with self._lock:
            if key not in self._grids:
                self._grids[key] = {}
                weakref.finalize(dataset, self._forget, key)
            self._grids[key][(name, stage)] = (variable, grid)
        return grid

    def _forget(self, key: int) -> None:
        with self._lock:
            self._grids.pop(key, None)


def _price_grid(dataset: xr.Dataset, name: str, stage: str | None) -> _PriceGrid:
    """``dataset[name]`` at ``stage`` and the first year, as an array over :data:`_PRICE_DIMS`.

    Read from the variable's array and the dataset's indexes directly (the same as ``sel``,
    ``isel(year=0)`` and ``transpose`` on the ``DataArray``, without building one).
    """
    variable = dataset.variables[name]
    values = np.asarray(variable.values, dtype=float)
    dims = [str(dim) for dim in variable.dims]
    if "year" in dims:
        values = np.take(values, 0, axis=dims.index("year"))
        dims.remove("year")
    if stage is not None:
        position = _index(dataset, "stage").get_loc(stage)
        if not isinstance(position, int | np.integer):
            raise ValueError(f"{name} has the stage {stage!r} more than once")
        values = np.take(values, position, axis=dims.index("stage"))
        dims.remove("stage")
    wanted = _PRICE_DIMS[name]
    if sorted(dims) != sorted(wanted):
        raise ValueError(f"{name} has dimensions {tuple(dims)}, expected {wanted}")
    values = values.transpose([dims.index(dim) for dim in wanted])
    others = tuple(i for i in range(values.ndim) if i != _FALLBACK_AXIS)
    with np.errstate(all="ignore"):
        best = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=others)
    best = np.where(np.isfinite(best), best, np.nan)
    return _PriceGrid(name, values, tuple(_index(dataset, dim) for dim in wanted), best)


def _index(dataset: xr.Dataset, dim: str) -> pd.Index:
    index = dataset.xindexes[dim]
    return index.index if isinstance(index, PandasIndex) else dataset.indexes[dim]


_price_grids = _PriceGrids()


def _gather(grid: _PriceGrid, rows: PricedRows, columns: tuple[str, ...]) -> np.ndarray:
    """``grid`` at each row's labels, never negative.

    ``columns`` name the rows' columns in the grid's dimension order. Where a label is absent
    or the price NaN: the highest price of the row's fallback label anywhere, then 0.
    """
    codes = rows.codes(grid, columns)
    known = np.logical_and.reduce([code >= 0 for code in codes])
    out = np.full(len(codes[0]), np.nan)
    out[known] = grid.values[tuple(code[known] for code in codes)]
    fallback_code = codes[_FALLBACK_AXIS]
    missing = np.isnan(out) & (fallback_code >= 0)
    out[missing] = grid.best[fallback_code[missing]]
    return np.asarray(np.maximum(np.nan_to_num(out, nan=0.0), 0.0), dtype=float)


@dataclass
class CapacityPlan:
    """Capacity changes gathered from all policies of a year, applied once at the end.

    ``advance``: facility → years its schedule moves earlier (fractions interpolate between
    whole-year shifts); ``added``: facility → t/y added on top; ``keep``: facility → share of
    its capacity left (technology controls multiply it down).
    """

    advance: dict[str, float] = field(default_factory=dict)
    added: dict[str, float] = field(default_factory=dict)
    keep: dict[str, float] = field(default_factory=dict)


class YearContext:
    """Everything policies see and change in one simulated year."""

    def __init__(
        self,
        year: int,
        network: Network,
        state: SimulationState,
        inputs: YearInputs,
        reference: xr.Dataset | None,
        policy_rows: Sequence[str],
        slack_columns: Sequence[str],
        schedule: Schedule | None = None,
    ) -> None:
        self.year = year
        self.schedule = schedule or Schedule()
        self.network = network
        self.world = network.world
        self.state = state
        self.inputs = inputs
        self.reference = reference
        self.extra_cost: dict[str, np.ndarray] = {}
        self.banned: dict[str, np.ndarray] = {}
        self.scaled: dict[str, np.ndarray] = {}
        self.row_bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.capacity = CapacityPlan()
        self.notes: dict[str, object] = {}
        for name in policy_rows:
            size = network.row(name).size
            self.row_bounds[name] = (np.full(size, -INF), np.full(size, INF))
        for name in slack_columns:
            self.banned[name] = np.ones(network.col(name).size, dtype=bool)

    def add_cost(self, family: str, local: np.ndarray, values: np.ndarray | float) -> None:
        """Add USD/kg to columns ``local`` (positions) of column family ``family``."""
        size = self.network.col(family).size
        costs = self.extra_cost.setdefault(family, np.zeros(size))
        np.add.at(costs, np.asarray(local, dtype=np.int64),
                  np.broadcast_to(np.asarray(values, dtype=float), np.shape(local)))

    def ban(self, family: str, local: np.ndarray, banned: bool = True) -> None:
        """Set (or lift, for slack columns) a zero upper bound on columns ``local``."""
        size = self.network.col(family).size
        mask = self.banned.setdefault(family, np.zeros(size, dtype=bool))
        mask[np.asarray(local, dtype=np.int64)] = banned

    def scale(self, family: str, local: np.ndarray, factor: np.ndarray | float) -> None:
        """Multiply the upper bounds of columns ``local`` of ``family`` by ``factor``."""
        size = self.network.col(family).size
        scale = self.scaled.setdefault(family, np.ones(size))
        np.multiply.at(scale, np.asarray(local, dtype=np.int64),
                       np.broadcast_to(np.asarray(factor, dtype=float), np.shape(local)))

    def rows(self, family: str) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound arrays of policy row family ``family`` (edit in place)."""
        return self.row_bounds[family]

    def price(self, stage: str, table: PricedRows | pd.DataFrame,
              region: str = "region") -> np.ndarray:
        """Reference price (USD/kg) per row of ``table``; see :func:`lookup_price`."""
        return lookup_price(self.reference, stage, table, region)

    def magnet_price(self, table: PricedRows | pd.DataFrame,
                     region: str = "region") -> np.ndarray:
        """Reference magnet price per row of ``table``; see :func:`lookup_magnet_price`."""
        return lookup_magnet_price(self.reference, table, region)

    def update_inputs(self, **changes: object) -> None:
        """Replace fields of the year's inputs."""
        self.inputs = replace(self.inputs, **changes)  # type: ignore[arg-type]

    def scheduled_start(self, facility_id: str) -> int:
        """First year of output of a facility under the run's schedule (before policies)."""
        facility = self.world.facility(facility_id)
        return facility.start_year + self.schedule.delays.get(facility_id, 0)

    def apply_capacity(self) -> None:
        """Turn the gathered :class:`CapacityPlan` into the year's ``inputs.capacity``.

        An advanced facility's capacity is recomputed from its schedule with the delay reduced
        by the advance (fractional advances interpolate between whole-year shifts), times the
        schedule's capacity factor plus its extra capacity; added capacity is summed on top;
        technology blocks multiply last.
        """
        plan = self.capacity
        if not (plan.advance or plan.added or plan.keep):
            return
        capacity = self.inputs.capacity.copy()
        for facility_id, advance in plan.advance.items():
            facility = self.world.facility(facility_id)
            capacity[facility_id] = self.schedule.facility_capacity(facility, self.year, advance)
        for facility_id, added in plan.added.items():
            capacity[facility_id] = capacity.get(facility_id, 0.0) + added
        for facility_id, keep in plan.keep.items():
            capacity[facility_id] = capacity.get(facility_id, 0.0) * keep
        self.update_inputs(capacity=capacity)

    def adjustments(self) -> Adjustments:
        """The gathered costs, bans and row bounds as engine :class:`Adjustments`."""
        scale = {name: np.where(mask, 0.0, 1.0) for name, mask in self.banned.items()}
        for name, factor in self.scaled.items():
            scale[name] = scale.get(name, 1.0) * factor
        return Adjustments(extra_cost=dict(self.extra_cost), upper_scale=scale,
                           row_bounds=dict(self.row_bounds))


@dataclass
class Outcome:
    """What a policy type reports for one year, per policy id.

    ``components``: policy id -> {component of
    :data:`~rareflow.model.results_contract.FISCAL_COMPONENTS` -> USD million}; a
    policy with a fiscal cost but no components counts it all as ``other``. Effects that give
    components set ``fiscal_usd_m`` to their sum. ``destinations``: policy id -> {region ->
    t} of the volume a policy supports (price floors: where the floored volume goes).
    """

    fiscal_usd_m: dict[str, float] = field(default_factory=dict)
    shortfall_t: dict[str, float] = field(default_factory=dict)
    components: dict[str, dict[str, float]] = field(default_factory=dict)
    destinations: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class AccountContext:
    """A solved year: its result dataset, raw column values (if known) and the year context."""

    year: int
    result: xr.Dataset
    col_value: np.ndarray | None
    year_context: YearContext

    @property
    def network(self) -> Network:
        """The policy-augmented network."""
        return self.year_context.network

    def values(self, family: str) -> np.ndarray | None:
        """Solved values of column family ``family`` (None when the solution is unknown)."""
        if self.col_value is None:
            return None
        return np.asarray(self.col_value[self.network.col(family).ids], dtype=float)

    def data(self, name: str) -> xr.DataArray:
        """Variable ``name`` of the result without its length-1 ``year`` dimension."""
        return _year_slice(self.result[name])


class Effect(Generic[PolicyT]):
    """How all policies of one instrument type act on the market (see the module docstring)."""

    #: Policy row families this effect declares (relaxed unless bound in ``adjust``).
    row_families: tuple[str, ...] = ()
    #: Penalty slack column families (zero unless unbanned in ``adjust``).
    slack_families: tuple[str, ...] = ()
    #: Effects run in this order each year (capacity and demand first, markets after).
    order: int = 50

    def __init__(self, policies: Sequence[PolicyT], world: World) -> None:
        self.policies = list(policies)
        self.world = world

    def declare(self, network: Network) -> None:
        """Add this type's rows and columns to ``network.lp``."""

    def adopt_declared(self, other: Effect[Any]) -> None:
        """Take over what ``other`` recorded in :meth:`declare` (its rows, columns, terms).

        For an effect of the same type over the same policies (ensemble draws differ only in
        timing and numbers, never in structure): attributes ``other`` set in ``declare`` and
        this effect lacks are copied, mutable containers deeply, so runs do not share state.
        """
        if type(other) is not type(self):
            raise TypeError(f"cannot adopt a {type(other).__name__} into {type(self).__name__}")
        if [p.id for p in other.policies] != [p.id for p in self.policies]:
            raise ValueError("effects adopt declarations only over the same policies")
        own = vars(self)
        for name, value in vars(other).items():
            if name not in own:
                shared = isinstance(value, (Network, World))
                setattr(self, name, value if shared else copy.deepcopy(value))

    def reset(self) -> None:
        """Forget what earlier runs observed (called before the first year of a run)."""

    def needs_reference(self) -> bool:
        """Whether :meth:`adjust` or :meth:`observe` reads reference prices or flows.

        When no effect of a scenario does, the first year is not probed (see
        :class:`~rareflow.policy.program.ScenarioProgram`): effects that only change capacity,
        demand or bounds from their own numbers say ``False``.
        """
        return True

    def adjust(self, ctx: YearContext) -> None:
        """Change the year's inputs and record costs, bans and bounds in ``ctx``."""

    def observe(self, col_value: np.ndarray, ctx: YearContext, uncontrolled: bool) -> None:
        """See a solve's column values (``uncontrolled``: the first-year probe solve)."""

    def account(self, ctx: AccountContext) -> Outcome:
        """Fiscal cost and shortfall of each policy in the solved year."""
        return Outcome()
