"""Turn a solved market LP into the result ``xarray.Dataset`` of the result contract.

Every flow variable of the result is a linear function of the LP's column values, and every
price a max (or min) over dual values of balance rows. Both maps depend only on the network, so
they are worked out once per market model (:class:`ResultPlan`, with pandas joins over the
family keys) and then applied per solve with numpy only:

* one sparse matrix ``S`` maps the column values onto the flat concatenation of all flow
  arrays (``flows = S @ x``, a single sparse mat-vec);
* each price array is a gather of row duals followed by ``np.maximum.reduceat`` (or minimum)
  over precomputed runs of rows sharing a target cell;
* the few inputs reported back (demand, capacity, scrap, stock levels) are scattered with
  ``np.bincount`` over integer positions looked up per dimension.

Which variables a solve writes, their dims and units come from
:mod:`rareflow.model.results_contract` (also rendered as ``docs/results.md``).

``tests/reference_results.py`` keeps the original pandas groupby/reindex implementation and
``tests/test_engine_results.py`` checks that both agree on random worlds.
"""

from __future__ import annotations

import functools
import itertools
import math
import weakref
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse
from xarray.indexes import PandasIndex

from rareflow.engine.market import MarketModel, Solution
from rareflow.engine.network import SWARF_SHARE, origin_tag
from rareflow.engine.pythontext import python_text
from rareflow.engine.yeartables import KeyMatcher, TableView, same_columns
from rareflow.model.demand_curve import curve_steps
from rareflow.model.elements import ORIGINS, STAGES
from rareflow.model.results_contract import PRODUCTS, written_by

#: Units of each variable a solve writes (``attrs["units"]``), from the result contract.
UNITS: dict[str, str] = {variable.name: variable.units for variable in written_by("solve")}

#: Dimensions of each result variable (without the leading ``year``), in dataset order.
DIMS: dict[str, tuple[str, ...]] = {
    variable.name: variable.year_dims for variable in written_by("solve")
}

#: Linear blocks of the flow vector ``S @ x``: name → dimensions. Besides result variables,
#: ``served_gross`` (all demand blocks served), ``swarf`` and ``net_release`` are intermediate.
_LINEAR: dict[str, tuple[str, ...]] = {
    "production": DIMS["production"],
    "magnet_production": DIMS["magnet_production"],
    "trade": DIMS["trade"],
    "magnet_trade": DIMS["magnet_trade"],
    "facility_output": DIMS["facility_output"],
    "served_gross": ("region", "sector"),
    "substituted": DIMS["substituted"],
    "consumption": DIMS["consumption"],
    "swarf": ("region", "element"),
    "net_release": ("region", "element"),
    "inventory_sold": ("region", "element"),
    "choke_served": ("region", "sector"),
    "disposal": DIMS["disposal"],
    "concentrate_stored": DIMS["concentrate_stored"],
    "mixed_heavy_production": DIMS["mixed_heavy_production"],
    "mixed_heavy_refined": DIMS["mixed_heavy_refined"],
    "mixed_heavy_disposal": DIMS["mixed_heavy_disposal"],
    "off_grade_refined": DIMS["off_grade_refined"],
}


class Grid:
    """The coordinates of the result arrays and integer lookups into them."""

    def __init__(self, coords: Mapping[str, Sequence[str]]) -> None:
        self.coords: dict[str, np.ndarray] = {d: np.asarray(list(v), dtype=str)
                                              for d, v in coords.items()}
        self.indexes: dict[str, pd.Index] = {d: pd.Index(v) for d, v in self.coords.items()}
        self._cells: dict[tuple[str, ...], dict[tuple[object, ...], int]] = {}

    def shape(self, dims: Sequence[str]) -> tuple[int, ...]:
        """Shape of an array over ``dims``."""
        return tuple(len(self.coords[d]) for d in dims)

    def size(self, dims: Sequence[str]) -> int:
        """Number of cells of an array over ``dims``."""
        return int(np.prod(self.shape(dims), dtype=np.int64))

    def flat(self, table: pd.DataFrame, dims: Sequence[str]) -> np.ndarray:
        """Flat (C-order) cell of each row of ``table`` over ``dims``; −1 where a key is unknown."""
        if not dims:
            return np.zeros(len(table), dtype=np.int64)
        codes = [self.indexes[d].get_indexer(pd.Index(table[d])) for d in dims]
        known = np.logical_and.reduce([c >= 0 for c in codes])
        flat = np.full(len(table), -1, dtype=np.int64)
        if known.any():
            flat[known] = np.ravel_multi_index([c[known] for c in codes], self.shape(dims))
        return flat

    def cells(self, dims: Sequence[str]) -> dict[tuple[object, ...], int]:
        """Flat (C-order) cell of every key tuple over ``dims`` (built once per ``dims``)."""
        dims = tuple(dims)
        cells = self._cells.get(dims)
        if cells is None:
            keys = itertools.product(*(self.coords[d].tolist() for d in dims))
            cells = self._cells[dims] = {key: i for i, key in enumerate(keys)}
        return cells


class RowSum:
    """Sums one value column of a year input table into an array over ``dims``.

    Meant for the small per-year tables, already read by ``set_year``: each row's cell is found
    with a dictionary of key tuples, cheaper than pandas indexers on a few hundred rows, and
    kept while the table's key columns stay the same. NaN values and unknown keys are dropped.
    """

    def __init__(self, grid: Grid, dims: tuple[str, ...]) -> None:
        self.grid, self.dims = grid, dims
        self.shape = grid.shape(dims)
        self.size = grid.size(dims)
        self._columns: list[list[object]] | None = None
        self._flat = np.zeros(0, dtype=np.int64)

    def __call__(self, table: TableView, value: str) -> np.ndarray:
        """The sums of ``table``'s column ``value`` per cell (zero where no row lands)."""
        if not table.size:
            return np.zeros(self.shape)
        columns = table.key_columns(self.dims)
        if self._columns is None or not same_columns(columns, self._columns):
            cells = self.grid.cells(self.dims)
            self._flat = np.fromiter((cells.get(key, -1) for key in zip(*columns, strict=True)),
                                     dtype=np.int64, count=table.size)
            self._columns = columns
        flat, values = self._flat, table.values[value]
        keep = (flat >= 0) & ~np.isnan(values)
        summed = np.bincount(flat[keep], weights=values[keep], minlength=self.size)
        return summed.reshape(self.shape)


@dataclass(frozen=True)
class Reduction:
    """A max (or min) of row duals per cell: runs of ``rows`` that share one target cell."""

    rows: np.ndarray
    starts: np.ndarray
    targets: np.ndarray
    shape: tuple[int, ...]
    maximum: bool

    @property
    def size(self) -> int:
        """Number of cells of the reduced array."""
        return math.prod(self.shape)

    @classmethod
    def build(cls, flat: np.ndarray, rows: np.ndarray, shape: tuple[int, ...],
              maximum: bool) -> Reduction:
        """Group dual ``rows`` by their target cell ``flat`` (entries with ``flat < 0`` dropped)."""
        keep = flat >= 0
        flat, rows = flat[keep], rows[keep]
        order = np.argsort(flat, kind="stable")
        flat, rows = flat[order], rows[order]
        targets, starts = np.unique(flat, return_index=True)
        return cls(rows, starts, targets, shape, maximum)

    def apply(self, duals: np.ndarray) -> np.ndarray:
        """The reduced array; cells that no row reaches are NaN."""
        out = np.full(self.size, np.nan)
        if self.rows.size:
            ufunc = np.maximum if self.maximum else np.minimum
            out[self.targets] = ufunc.reduceat(duals[self.rows], self.starts)
        return out.reshape(self.shape)


class ResultPlan:
    """Precomputed maps from one market model's columns and rows to the result arrays."""

    def __init__(self, model: MarketModel) -> None:
        world = model.world
        self.source = model.lp.matrix_csr()
        self.network, self.world = model.network, model.world
        self.grid = Grid({
            "stage": STAGES,
            "region": world.region_ids,
            "element": world.elements,
            "origin": ORIGINS,
            "product": PRODUCTS,
            "exporter": world.region_ids,
            "importer": world.region_ids,
            "sector": [s.id for s in world.sectors],
            "grade": [g.id for g in world.magnet_grades],
            "facility": [f.id for f in world.facilities],
        })
        self.facilities = KeyMatcher(self.grid.coords["facility"].tolist(), "facility capacity")
        self._sums = {
            name: RowSum(self.grid, dims) for name, dims in (
                ("stock", ("region", "element")), ("scrap", ("region", "element")))
        }
        self.blocks: dict[str, tuple[int, int]] = {}
        self._blocks: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        offset = 0
        for name, dims in _LINEAR.items():
            size = self.grid.size(dims)
            self.blocks[name] = (offset, offset + size)
            self._blocks[name] = (offset, offset + size, self.grid.shape(dims))
            offset += size
        self._cells: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._coefs: list[np.ndarray] = []
        # the declarations join the network's key tables (see engine.pythontext); the grid
        # and the coordinates of every result keep pandas' default text storage
        with python_text():
            self._declare_flows(model)
            self.price, self.magnet_price = self._declare_prices(model)
            self.reference, self.choke, self.inventory_cells = self._declare_bounds(model)
        cells = np.concatenate(self._cells)
        keep = cells >= 0
        self.flows = sparse.csr_matrix(
            (np.concatenate(self._coefs)[keep], (cells[keep], np.concatenate(self._cols)[keep])),
            shape=(offset, model.lp.n_cols),
        )
        self._static_coords = xr.Coordinates({
            name: self.grid.coords[name]
            for name in ("region", "element", "origin", "stage", "grade", "exporter", "importer",
                         "product", "facility", "sector")
        })
        self._variables = dict(self._static_coords.variables)
        self._indexes = dict(self._static_coords.xindexes)
        self._sizes: dict[Hashable, int] = dict(self._static_coords.sizes)

    # ------------------------------------------------------------------ declaration --
    def _add(self, block: str, table: pd.DataFrame, **constant: str) -> None:
        """Add ``coef × x[col]`` of each row of ``table`` to the cells of ``block``.

        ``table`` holds the block's dimensions (or ``constant`` ones, e.g. ``stage="mining"``),
        a ``col`` column of LP column ids and a ``coef`` column.
        """
        dims = _LINEAR[block]
        start, _ = self.blocks[block]
        table = table.assign(**constant) if constant else table
        flat = self.grid.flat(table, dims)
        self._cells.append(np.where(flat >= 0, flat + start, -1))
        self._cols.append(table["col"].to_numpy(dtype=np.int64))
        self._coefs.append(table["coef"].to_numpy(dtype=float))

    def _declare_flows(self, model: MarketModel) -> None:
        net, lp = model.network, model.lp
        shares = net.shares[["deposit", "deposit_region", "element", "share"]]
        recipes = net.recipes

        def col(name: str, coef: float = 1.0) -> pd.DataFrame:
            table = net.col(name).labelled("col")
            table["coef"] = coef
            return table

        def by_share(table: pd.DataFrame) -> pd.DataFrame:
            table = table.merge(shares, on="deposit")
            return table.assign(coef=table.coef * table.share)

        def by_content(table: pd.DataFrame) -> pd.DataFrame:
            table = table.merge(recipes, on="grade_id")
            return table.assign(coef=table.coef * table.content)

        # production by stage, and trade, as the network describes them
        self._add("production", net.outputs)
        self._add("trade", net.shipments)
        self._add("magnet_trade", col("magnet_ship").rename(columns={"grade_id": "grade"}))
        self._add("magnet_production", col("magnet_make").rename(columns={"grade_id": "grade"}))

        # facility activity in capacity units
        for stage in STAGES:
            family = net.row(f"{stage}_capacity")
            block = lp.matrix_csr()[family.ids].tocoo()
            table = family.keys.iloc[block.row].reset_index(drop=True)
            self._add("facility_output", table.assign(col=block.col, coef=block.data))

        # demand served
        self._add("served_gross", pd.concat([col("demand_block"), col("oxide_block")]))
        self._add("substituted", col("substitute"))

        # consumption by stage
        self._add("consumption", by_share(pd.concat([col("concentrate"), col("conc_direct")])),
                  stage="mining")
        self._add("consumption", by_share(col("separate")), stage="concentration")
        self._add("consumption", pd.concat([col("metal_make"), col("oxide_use")]),
                  stage="separation")
        self._add("consumption", col("magnet_metal_use"), stage="metal")
        self._add("consumption", by_content(col("magnet_use")), stage="magnet")
        self._add("consumption", col("recycle"), stage="recycling")

        # scrap, stocks, disposal
        gross = 1.0 / (1.0 - SWARF_SHARE)
        self._add("swarf", by_content(col("magnet_make", gross - 1.0)))
        self._add("net_release", pd.concat([col("stock_release"), col("stock_fill", -1.0)]))
        self._add("inventory_sold", pd.concat([col("inventory_sell"), col("inventory_buy", -1.0)]))
        blocks = pd.concat([col("demand_block"), col("oxide_block")])
        self._add("choke_served", blocks.loc[blocks.block == 0])
        self._add("disposal", col("oxide_dispose"))
        self._add("concentrate_stored", by_share(col("conc_store")))
        mixes = net.mixes[["mix", "element", "share"]]

        def by_mix(table: pd.DataFrame) -> pd.DataFrame:
            table = table.merge(mixes, on="mix")
            return table.assign(coef=table.coef * table.share)

        self._add("mixed_heavy_production", net.mixed_heavy)
        self._add("mixed_heavy_refined", by_mix(col("heavy_refine")))
        self._add("mixed_heavy_disposal", by_mix(col("mixed_heavy_dispose")))
        self._add("off_grade_refined", col("oxide_refine"))

    def _declare_bounds(self, model: MarketModel) -> tuple[sparse.csr_matrix, ...]:
        """Maps from column upper bounds (or opening stocks) to (region, sector/element) cells.

        ``reference``: a demand curve's steps sum to ``total × Q``, so its columns' upper
        bounds, divided by ``total``, give the reference quantity ``Q`` (after any policy
        scaling). ``choke``: the bound of step 0, the demand that would pay the choke price.
        ``inventory``: ``inventory_sell`` columns to (region, element).
        """
        net, grid = model.network, self.grid
        totals = {sector.id: curve_steps(sector.elasticity).total for sector in model.world.sectors}
        blocks = pd.concat([net.col("demand_block").labelled("col"),
                            net.col("oxide_block").labelled("col")])
        dims = ("region", "sector")
        flat = grid.flat(blocks, dims)
        scale = 1.0 / blocks.sector.map(totals).to_numpy(dtype=float)
        cols = blocks["col"].to_numpy(dtype=np.int64)
        shape = (grid.size(dims), model.lp.n_cols)
        keep = flat >= 0
        reference = sparse.csr_matrix((scale[keep], (flat[keep], cols[keep])), shape=shape)
        top = keep & (blocks.block.to_numpy() == 0)
        choke = sparse.csr_matrix((np.ones(int(top.sum())), (flat[top], cols[top])), shape=shape)
        sell = net.col("inventory_sell").labelled("col")
        dims = ("region", "element")
        flat = grid.flat(sell, dims)
        keep = flat >= 0
        inventory = sparse.csr_matrix(
            (np.ones(int(keep.sum())), (flat[keep], np.arange(len(sell))[keep])),
            shape=(grid.size(dims), len(sell)))
        return reference, choke, inventory

    def _declare_prices(self, model: MarketModel) -> tuple[Reduction, Reduction]:
        net, grid = model.network, self.grid
        dims = DIMS["price"]
        flats: list[np.ndarray] = []
        rows: list[np.ndarray] = []

        def add(stage: str, table: pd.DataFrame) -> None:
            flats.append(grid.flat(table.assign(stage=stage), dims))
            rows.append(table["row"].to_numpy(dtype=np.int64))

        # A concentrate's value per kg of a contained element is not separable; report the
        # value of a kg of concentrate REO under every element it contains.
        conc = net.row("concentrate_balance").labelled("row").merge(
            net.shares[["deposit", "element", "share"]], on="deposit")
        conc = conc.loc[conc.share > 0]
        conc = conc.assign(origin=origin_tag(conc.region, net.china))
        add("concentration", conc)
        oxide = net.row("oxide_balance").labelled("row")
        add("separation", oxide.loc[oxide.grade == "hi"])
        add("metal", net.row("metal_balance").labelled("row"))
        price = Reduction.build(np.concatenate(flats), np.concatenate(rows), grid.shape(dims),
                                maximum=True)
        magnets = net.row("magnet_balance").labelled("row").rename(columns={"grade_id": "grade"})
        magnet_dims = DIMS["magnet_price"]
        magnet_price = Reduction.build(grid.flat(magnets, magnet_dims),
                                       magnets["row"].to_numpy(dtype=np.int64),
                                       grid.shape(magnet_dims), maximum=False)
        return price, magnet_price

    # ------------------------------------------------------------------ per solve --
    def coordinates(self, year: int) -> xr.Coordinates:
        """The dataset coordinates for ``year`` (``year`` first, then the static ones)."""
        year_coord = xr.Coordinates({"year": np.array([year], dtype=np.int64)})
        return year_coord.merge(self._static_coords).coords

    def dataset(self, year: int, arrays: Mapping[str, np.ndarray]) -> xr.Dataset:
        """The result dataset of ``year`` from the arrays of :meth:`arrays`.

        The public constructor re-merges and re-aligns the eleven indexed coordinates on every
        call, which costs as much as all the result arithmetic. Here the static
        coordinates were validated once per plan and the ``year`` index is made directly, so
        the dataset is assembled from them as xarray's own operations do (sharing coordinate
        variables and indexes between years, as its selections do). :func:`public_dataset` is
        the reference construction; tests check that both agree.
        """
        if _construct_direct is None:  # an xarray without the internal constructor
            return public_dataset(self, year, arrays)
        year_index, year_variable = _year_coordinate(year)
        variables: dict[Hashable, xr.Variable] = {"year": year_variable, **self._variables}
        for name, dims in DIMS.items():
            variables[name] = xr.Variable(("year", *dims), arrays[name][np.newaxis],
                                          {"units": UNITS[name]}, fastpath=True)
        dataset: xr.Dataset = _construct_direct(
            variables=variables, coord_names={"year", *self._variables},
            dims={"year": 1, **self._sizes}, indexes={"year": year_index, **self._indexes},
        )
        return dataset

    def linear(self, col_value: np.ndarray) -> dict[str, np.ndarray]:
        """All linear flow blocks for the column values ``col_value``, shaped by dimension."""
        flat = self.flows @ col_value
        return {name: flat[start:stop].reshape(shape)
                for name, (start, stop, shape) in self._blocks.items()}

    def arrays(self, model: MarketModel, solution: Solution) -> dict[str, np.ndarray]:
        """Every result variable of one solve as a numpy array over its :data:`DIMS`."""
        view = model.view
        assert view is not None and view.inputs is model.inputs, "set_year was not called"
        flows = self.linear(solution.col_value)
        sums = self._sums
        sector_shape = self.grid.shape(("region", "sector"))
        upper = model.col_upper
        demand = (self.reference @ upper).reshape(sector_shape)
        shortfall = np.maximum(
            (self.choke @ upper).reshape(sector_shape) - flows["choke_served"], 0.0)
        served, substituted = flows["served_gross"], flows["substituted"]
        opening = (self.inventory_cells @ model.inventory_opening).reshape(
            self.grid.shape(("region", "element")))
        stock = sums["stock"](view.stock, "level")
        scrap = sums["scrap"](view.scrap, "t")
        capacity = view.capacity.take(self.facilities.rows(view.capacity.labels))
        capacity[np.isnan(capacity)] = 0.0
        production = flows["production"]
        return {
            "production": production,
            "magnet_production": flows["magnet_production"],
            "trade": flows["trade"],
            "magnet_trade": flows["magnet_trade"],
            "facility_output": flows["facility_output"],
            "facility_capacity": capacity,
            "demand": demand,
            "served": served - substituted,
            "substituted": substituted,
            "demand_response": demand - served - shortfall,
            "shortfall": shortfall,
            "consumption": flows["consumption"],
            "price": self.price.apply(solution.row_dual),
            "magnet_price": self.magnet_price.apply(solution.row_dual),
            "recycled": production[STAGES.index("recycling")].sum(axis=-1),
            "scrap_available": flows["swarf"] + scrap,
            "stockpile_level": stock - flows["net_release"],
            "stockpile_release": flows["net_release"],
            "inventory_level": opening - flows["inventory_sold"],
            "inventory_release": flows["inventory_sold"],
            "disposal": flows["disposal"],
            "concentrate_stored": flows["concentrate_stored"],
            "mixed_heavy_production": flows["mixed_heavy_production"],
            "mixed_heavy_refined": flows["mixed_heavy_refined"],
            "mixed_heavy_disposal": flows["mixed_heavy_disposal"],
            "off_grade_refined": flows["off_grade_refined"],
            "surplus": np.asarray(-solution.objective / 1000.0),
        }


_PLANS: weakref.WeakKeyDictionary[MarketModel, ResultPlan] = weakref.WeakKeyDictionary()


def result_plan(model: MarketModel) -> ResultPlan:
    """The (cached) result plan of ``model``; rebuilt if its constraint matrix changed.

    Models built on one network and world (a policy program's probe next to its market) share
    a plan: it depends only on those and the matrix, not on a model's solver state.
    """
    plan = _PLANS.get(model)
    source = model.lp.matrix_csr()
    if plan is None or plan.source is not source:
        plan = next((other for other in list(_PLANS.values()) if other.source is source
                     and other.network is model.network and other.world is model.world),
                    None)
        if plan is None:
            plan = ResultPlan(model)
        _PLANS[model] = plan
    return plan


@functools.lru_cache(maxsize=512)
def _year_coordinate(year: int) -> tuple[PandasIndex, xr.Variable]:
    """The ``year`` index and coordinate variable of a one-year result dataset."""
    index = PandasIndex(pd.Index(np.array([year], dtype=np.int64), name="year"), "year")
    return index, index.create_variables()["year"]


def to_dataset(model: MarketModel, solution: Solution, year: int) -> xr.Dataset:
    """Assemble the result dataset of one solved year (length-1 ``year`` dimension)."""
    plan = result_plan(model)
    return plan.dataset(year, plan.arrays(model, solution))


def public_dataset(plan: ResultPlan, year: int, arrays: Mapping[str, np.ndarray]) -> xr.Dataset:
    """The result dataset built with xarray's public constructor (reference for the fast path)."""
    data_vars = {
        name: (("year", *dims), arrays[name][np.newaxis], {"units": UNITS[name]})
        for name, dims in DIMS.items()
    }
    return xr.Dataset(data_vars, coords=plan.coordinates(year))


#: ``xr.Dataset._construct_direct``: how xarray builds datasets from already validated variables
#: and indexes (internal, present with this signature since long before xarray 2024.1).
_construct_direct = getattr(xr.Dataset, "_construct_direct", None)
