"""The yearly market: one LP per world, re-solved year after year with new bounds and costs.

Units: flows in tonnes, costs and values in USD/kg. A cost of *c* USD/kg on a flow of *x* t is
*c·x* thousand USD, so the duals of the balance rows are directly prices in USD/kg.
The objective is total surplus: value of served demand minus production, transport, tariff,
disposal and substitution costs (HiGHS minimises its negative).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import highspy
import numpy as np
import pandas as pd

from rareflow.engine.diagnostics import InfeasibleYearError, explain_infeasibility
from rareflow.engine.inputs import YearInputs
from rareflow.engine.inventory import InventoryLayout
from rareflow.engine.lpcore import INF, Family
from rareflow.engine.network import (
    REEXPORT_ROWS,
    STAGE_FAMILY,
    Network,
    build_network,
    origin_tag,
)
from rareflow.engine.warmstart import StartPolicy
from rareflow.engine.yeartables import Key, KeyMatcher, YearView
from rareflow.model.demand_curve import curve_steps
from rareflow.model.world import World

#: USD/kg to leave surplus oxide in tailings (the La/Ce "balance problem"). No public figure
#: prices it, so it is zero: a co-product nobody buys is worth nothing, not less than nothing.
DISPOSAL_COST = 0.0
#: Share of a facility's capacity it runs at its unit cost; above it, the stretch segment.
#: Assumption: plants run near 85 % of nameplate in normal operation; the last 15 % takes
#: overtime, extra reagents and deferred maintenance.
NORMAL_SHARE = 0.85
#: Extra cost of stretch operation as a share of the unit cost. Assumption (see NORMAL_SHARE).
STRETCH_PREMIUM = 0.5
#: USD/kg to stockpile unsold concentrate at the mine. Assumption, as above.
CONCENTRATE_STORE_COST = 0.2
#: A tie-breaking cost (USD/kg) for moves that should happen only when they add value.
EPSILON_COST = 1e-3
#: USD/kg to refine off-grade oxide (< 99 %) to the ≥ 99 % that metal and magnet makers need.
#: Assumption: a further dissolution, solvent-extraction and precipitation pass on a product
#: that is already 95-98 % pure costs about what a light-separation circuit outside China costs
#: per kg of feed (Lynas ≈ $6/kg, see lynas_malaysia_separation); no mass is lost in the model.
OFF_GRADE_REFINING_COST = 5.0


@dataclass
class Solution:
    """Raw outcome of one solve: primal values, row duals and timing."""

    status: str
    objective: float
    col_value: np.ndarray
    row_dual: np.ndarray
    solve_seconds: float
    iterations: int


@dataclass
class Adjustments:
    """Policy-driven changes on top of the year inputs, in domain terms.

    ``extra_cost``: column family → per-column USD/kg added (tariffs, licence delays, subsidies
    as negative costs). ``upper_scale``: column family → per-column multiplier on the upper bound
    (0 bans a flow). ``row_bounds``: row family → (lower, upper) arrays for policy rows.
    """

    extra_cost: dict[str, np.ndarray] = field(default_factory=dict)
    upper_scale: dict[str, np.ndarray] = field(default_factory=dict)
    row_bounds: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


class MarketModel:
    """The market LP of one world: built once, then updated and re-solved per year or draw."""

    def __init__(self, world: World, network: Network | None = None) -> None:
        self.world = world
        self.network = network if network is not None else build_network(world)
        self.lp = self.network.lp
        self.highs = self.lp.to_highs()
        self._tariff_labels: dict[str, pd.Series] = {}
        self._static_cost = self._build_static_cost()
        self.col_lower = np.zeros(self.lp.n_cols)
        self.col_upper = np.full(self.lp.n_cols, INF)
        # What HiGHS holds now (the LP is built with zero costs): the first set_year then sends
        # every non-zero cost, static ones included.
        self.col_cost = np.zeros(self.lp.n_cols)
        self.row_lower = np.zeros(self.lp.n_rows)
        self.row_upper = np.zeros(self.lp.n_rows)
        self.inputs: YearInputs | None = None
        #: Opening inventory per ``inventory_sell`` column of the last ``set_year`` (t REO).
        self.inventory_opening = np.zeros(0)
        #: The columns of ``inputs`` as read by the last ``set_year`` (reused by the results).
        self.view: YearView | None = None
        self._year_maps = YearMaps(self)
        #: Where each solve starts (None: HiGHS warm-starts from the previous solve).
        self.start_policy: StartPolicy | None = None

    @property
    def tariff_labels(self) -> Mapping[str, pd.Series]:
        """Shipping family name -> each column's tariff label ``EXPORTER>IMPORTER:product``."""
        return MappingProxyType(self._tariff_labels)

    # ------------------------------------------------------------------ static data --
    def _facility_values(self, family: Family, column: str) -> np.ndarray:
        values = self.network.facilities.set_index("facility")[column]
        return family.keys["facility"].map(values).to_numpy(dtype=float)

    def _trade_cost(self, family: Family, product: str) -> np.ndarray:
        trade = self.world.trade
        base = {str(k): v for k, v in trade.transport_usd_per_kg.items()}.get(product, 0.0)
        keys = family.keys
        self._tariff_labels[family.name] = keys["exporter"] + ">" + keys["importer"] + ":" + product
        return np.full(family.size, base, dtype=float)

    def _add_tariffs(self, year: int, cost: np.ndarray) -> None:
        """Add the standing tariffs in force in ``year`` (USD/kg) to the shipping costs."""
        tariffs = self.world.trade.tariffs_in(year)
        if not tariffs:
            return
        # Same as mapping every shipping column's label through ``tariffs``, in O(#tariffs).
        columns = self._year_maps.tariff_columns
        for label, value in tariffs.items():
            ids = columns.get(label)
            if ids is not None and not np.isnan(value):
                cost[ids] += value

    def _build_static_cost(self) -> np.ndarray:
        cost = np.zeros(self.lp.n_cols)
        col = self.network.col
        for name in ("mine", "concentrate", "separate", "metal_make", "magnet_make", "recycle",
                     "heavy_refine"):
            family = col(name)
            cost[family.ids] = self._facility_values(family, "unit_cost")
        for name, product in (("conc_ship", "concentrate"), ("oxide_ship", "oxide"),
                              ("metal_ship", "metal"), ("magnet_ship", "magnet"),
                              ("mixed_heavy_ship", "mixed_heavy")):
            family = col(name)
            cost[family.ids] = self._trade_cost(family, product)
        cost[col("oxide_dispose").ids] = DISPOSAL_COST
        cost[col("mixed_heavy_dispose").ids] = DISPOSAL_COST
        fill = col("stock_fill")
        support = {(s.region, s.element): s.support_price_share for s in self.world.stockpiles
                   if s.support_price_share is not None}
        cost[fill.ids] = [-share * (self.world.oxide_reference_price(e, r) or 0.0)
                          if (share := support.get((r, e))) is not None else 0.0
                          for r, e in zip(fill.keys.region.tolist(), fill.keys.element.tolist(),
                                          strict=True)]
        stretch = col("stretch")
        cost[stretch.ids] = STRETCH_PREMIUM * self._facility_values(stretch, "unit_cost")
        cost[col("inventory_buy").ids] = EPSILON_COST
        cost[col("conc_store").ids] = CONCENTRATE_STORE_COST
        cost[col("oxide_downgrade").ids] = EPSILON_COST
        cost[col("oxide_refine").ids] = OFF_GRADE_REFINING_COST
        cost[col("magnet_use").ids] = EPSILON_COST
        return cost

    # ------------------------------------------------------------------ per year --
    def set_year(self, inputs: YearInputs, adjustments: Adjustments | None = None) -> None:
        """Copy one year's inputs (and policy adjustments) into bounds, costs and RHS.

        Each input column is read once (:class:`YearView`); the positions of every input in the
        LP's bound and cost vectors are worked out once per model (:class:`YearMaps`), so a year
        matches its table rows to them (cached while the keys repeat) and scatters with numpy.
        """
        maps, col, row = self._year_maps, self.network.col, self.network.row
        view = YearView.read(inputs)
        lower = np.zeros(self.lp.n_cols)
        upper = np.full(self.lp.n_cols, INF)
        cost = self._static_cost.copy()
        self._add_tariffs(inputs.year, cost)
        row_lower = np.zeros(self.lp.n_rows)
        row_upper = np.zeros(self.lp.n_rows)

        # facility capacities
        capacity = _fill0(view.capacity.take(maps.capacity.rows(view.capacity.labels)))
        row_upper[maps.capacity_rows] = capacity
        # State quotas: a facility with a minimum utilisation runs at least that share of its
        # capacity whatever the price (the surplus is stored as concentrate or disposed of).
        row_lower[maps.capacity_rows] = np.where(maps.min_utilisation > 0.0,
                                                 maps.min_utilisation * capacity, -INF)
        normal = _fill0(view.capacity.take(maps.normal.rows(view.capacity.labels)))
        row_lower[maps.normal_rows] = -INF
        row_upper[maps.normal_rows] = NORMAL_SHARE * normal
        # The rule of origin: outside trading hubs, exports at most the region's own output.
        row_lower[maps.reexport_rows] = -INF
        row_upper[maps.reexport_rows] = np.where(maps.reexport_hub, INF, 0.0)
        # Magnets made in China always carry the China origin tag (the origin rule).
        upper[maps.clean_in_china] = 0.0
        row_upper[maps.magnet_clean] = INF

        # magnet demand curves, substitutes, oxide demand curves
        magnet = view.magnet_demand
        at = maps.magnet_demand.rows(*magnet.key_columns(("region", "sector")))
        demand = magnet.take("quantity", at)
        n_blocks = maps.n_blocks
        magnet_quantity = _fill0(demand[:n_blocks])
        upper[maps.block_ids] = maps.block_share * magnet_quantity
        cost[maps.block_ids] = -maps.block_price
        substitution_cost = view.substitution_cost
        cost[maps.substitute_ids] = _fill0(substitution_cost.take(
            maps.substitute_sector.rows(substitution_cost.labels)))
        quantity = demand[n_blocks:]
        available = view.substitution_available
        share = _fill0(available.take(maps.limit_sector.rows(available.labels)))
        row_lower[maps.limit_ids] = -INF
        row_upper[maps.limit_ids] = _fill0(quantity) * share
        oxide = view.oxide_demand
        at = maps.oxide_demand.rows(*oxide.key_columns(("region", "sector", "element")))
        oxide_quantity = _fill0(oxide.take("quantity", at))
        upper[maps.oxide_ids] = maps.oxide_share * oxide_quantity
        cost[maps.oxide_ids] = -maps.oxide_price

        # buyers' and traders' inventories: opening stock offered, closing stock valued
        stocks = maps.inventory
        target = stocks.targets(magnet_quantity, oxide_quantity)
        opening = (stocks.opening_at_target(target) if inputs.inventory is None
                   else np.asarray(inputs.inventory, dtype=float))
        upper[stocks.block_ids] = stocks.block_width * target[stocks.block_cell]
        cost[stocks.block_ids] = -stocks.block_price
        upper[stocks.sell_ids] = opening
        held = -np.bincount(stocks.sell_cell, weights=opening, minlength=stocks.n_cells)
        row_lower[stocks.holding_rows] = held
        row_upper[stocks.holding_rows] = held

        # end-of-life scrap and stockpiles
        scrap = view.scrap
        at = maps.scrap.rows(*scrap.key_columns(("region", "element", "origin")))
        rhs = _fill0(scrap.take("t", at))
        row_lower[maps.scrap_ids] = rhs
        row_upper[maps.scrap_ids] = rhs
        at = maps.stock.rows(*view.stock.key_columns(("region", "element", "origin")))
        stock = {name: _fill0(view.stock.take(name, at))
                 for name in ("level", "release_price", "fill_min", "fill_max")}
        upper[maps.release_ids] = stock["level"]
        cost[maps.release_ids] = stock["release_price"]
        lower[maps.fill_ids] = stock["fill_min"]
        upper[maps.fill_ids] = np.maximum(stock["fill_max"], stock["fill_min"])

        if adjustments is not None:
            for name, extra in adjustments.extra_cost.items():
                cost[col(name).ids] += extra
            for name, scale in adjustments.upper_scale.items():
                ids = col(name).ids
                # 0 × inf would be NaN: a non-positive scale closes the flow outright.
                closed = scale <= 0.0
                upper[ids] = np.where(closed, 0.0, upper[ids] * np.where(closed, 1.0, scale))
            for name, (lo, hi) in adjustments.row_bounds.items():
                ids = row(name).ids
                row_lower[ids] = lo
                row_upper[ids] = hi

        self._push(lower, upper, cost, row_lower, row_upper)
        self.inputs = inputs
        self.view = view
        self.inventory_opening = opening

    def _push(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        cost: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
    ) -> None:
        """Send only what changed to HiGHS, so its basis stays valid for a warm start."""
        changed = np.flatnonzero((lower != self.col_lower) | (upper != self.col_upper))
        if changed.size:
            self.highs.changeColsBounds(changed.size, changed.astype(np.int32), lower[changed],
                                        upper[changed])
        changed = np.flatnonzero(cost != self.col_cost)
        if changed.size:
            self.highs.changeColsCost(changed.size, changed.astype(np.int32), cost[changed])
        changed = np.flatnonzero((row_lower != self.row_lower) | (row_upper != self.row_upper))
        if changed.size:
            self.highs.changeRowsBounds(  # type: ignore[attr-defined]
                changed.size, changed.astype(np.int32), row_lower[changed], row_upper[changed]
            )
        self.col_lower, self.col_upper, self.col_cost = lower, upper, cost
        self.row_lower, self.row_upper = row_lower, row_upper

    def closing_inventory(self, solution: Solution) -> np.ndarray:
        """Closing stock per ``inventory_sell`` column after ``solution`` (next year's opening)."""
        return self._year_maps.inventory.closing(self.inventory_opening, solution.col_value)

    # ------------------------------------------------------------------ solving --
    def basis(self) -> highspy.HighsBasis:
        """A copy of HiGHS's current basis (to start later solves from, see :meth:`restart`)."""
        return self.highs.getBasis()

    def restart(self, basis: highspy.HighsBasis | None = None) -> None:
        """Forget all solver state; the next solve starts from ``basis``, or from scratch.

        After this the next solve depends only on the LP and ``basis``, not on what was solved
        before, so a re-used model gives the same results in any order of use.
        """
        self.highs.clearSolver()
        if basis is not None:
            self.highs.setBasis(basis)

    def solve(self, warm: bool = True) -> Solution:
        """Solve the current year; raise :class:`InfeasibleYearError` naming the conflict."""
        if not warm:
            self.highs.clearSolver()
        elif self.start_policy is not None:
            self.start_policy.before_solve(self)
        start = time.perf_counter()
        self.highs.run()
        elapsed = time.perf_counter() - start
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            year = self.inputs.year if self.inputs else None
            raise InfeasibleYearError(
                year, self.highs.modelStatusToString(status), explain_infeasibility(self)
            )
        solution = self.highs.getSolution()
        info = self.highs.getInfo()
        if self.start_policy is not None:
            self.start_policy.after_solve(self, int(info.simplex_iteration_count))
        return Solution(
            status="optimal",
            objective=float(info.objective_function_value),
            # highspy hands vectors over as Python lists; fromiter converts them fastest.
            col_value=np.fromiter(solution.col_value, dtype=float, count=self.lp.n_cols),
            row_dual=np.fromiter(solution.row_dual, dtype=float, count=self.lp.n_rows),
            solve_seconds=elapsed,
            iterations=int(info.simplex_iteration_count),
        )



class YearMaps:
    """Where each year input lands in a model's bound and cost vectors (built once per model).

    Holds the LP ids of the families that ``set_year`` fills, a :class:`KeyMatcher` over their
    domain keys per input table (to find the rows of a year's tables, as a left merge on those
    keys would) and the static demand-curve data (block shares and willingness to pay) aligned
    with the columns.
    """

    def __init__(self, model: MarketModel) -> None:
        world, net = model.world, model.network
        col, row = net.col, net.row
        capacity = [row(f"{stage}_capacity") for stage in STAGE_FAMILY]
        self.capacity_rows = np.concatenate([f.ids for f in capacity])
        self.capacity = KeyMatcher(
            np.concatenate([f.keys["facility"].to_numpy(dtype=object) for f in capacity]).tolist(),
            "facility capacity")
        # Minimum utilisation (state quotas) of each capacity row's facility; 0 = none.
        min_share = dict(zip(net.facilities["facility"].tolist(),
                             net.facilities["min_utilisation"].tolist(), strict=True))
        self.min_utilisation = np.array([float(min_share.get(f, 0.0))
                                         for f in self.capacity.targets])

        reexport = [row(name) for name in REEXPORT_ROWS]
        self.reexport_rows = np.concatenate([family.ids for family in reexport])
        hubs = set(world.trade.reexport_hubs)
        self.reexport_hub = np.concatenate([family.keys.region.isin(hubs).to_numpy()
                                            for family in reexport])
        normal = row("normal_capacity")
        self.normal_rows = normal.ids
        self.normal = KeyMatcher(normal.keys.facility.tolist(), "facility capacity")

        make = col("magnet_make")
        # Magnet columns whose origin tag the origin rule contradicts (clean magnets in China).
        tag = origin_tag(make.keys.region, net.china, make.keys.origin)
        self.clean_in_china = make.ids[tag != make.keys.origin.to_numpy()]
        self.magnet_clean = row("magnet_clean").ids

        blocks = col("demand_block")
        sectors = {sector.id: sector for sector in world.sectors}
        steps = {sector.id: curve_steps(sector.elasticity) for sector in world.sectors}
        block_sector = blocks.keys.sector.tolist()
        block_index = blocks.keys.block.to_numpy(dtype=np.intp)
        self.block_share = np.array([steps[s].width[b] for s, b in zip(block_sector, block_index,
                                                                       strict=True)])
        self.block_price = np.array([
            steps[s].price[b] * float(sectors[s].reference_price_usd_per_kg or 0.0)
            for s, b in zip(block_sector, block_index, strict=True)])
        self.block_ids = blocks.ids
        block_keys = _keys(blocks.keys, ("region", "sector"))
        self.n_blocks = len(block_keys)

        substitute, limit = col("substitute"), row("substitute_limit")
        self.substitute_ids = substitute.ids
        self.substitute_sector = KeyMatcher(substitute.keys.sector.tolist(),
                                            "substitution cost sector")
        self.limit_ids = limit.ids
        # Demand blocks, then substitution limits, read the magnet demand table.
        self.magnet_demand = KeyMatcher(block_keys + _keys(limit.keys, ("region", "sector")),
                                        "region/sector")
        self.limit_sector = KeyMatcher(limit.keys.sector.tolist(), "substitution sector")

        oxide = col("oxide_block")
        keys = oxide.keys
        self.oxide_share = np.array([steps[s].width[b] for s, b in zip(
            keys.sector.tolist(), keys.block.tolist(), strict=True)])
        self.oxide_price = np.array([
            steps[s].price[b] * (world.oxide_reference_price(e, r) or 0.0)
            for s, e, r, b in zip(keys.sector.tolist(), keys.element.tolist(),
                                  keys.region.tolist(), keys.block.tolist(), strict=True)])
        self.oxide_ids = oxide.ids
        self.oxide_demand = KeyMatcher(_keys(oxide.keys, ("region", "sector", "element")),
                                       "region/sector/element")
        holding = row("inventory_holding").keys
        self.inventory = InventoryLayout(net, np.array([
            world.oxide_reference_price(e, r) or 0.0
            for r, e in zip(holding.region.tolist(), holding.element.tolist(), strict=True)]))

        scrap = row("scrap_balance")
        self.scrap_ids = scrap.ids
        self.scrap = KeyMatcher(_keys(scrap.keys, ("region", "element", "origin")),
                                "region/element/origin")
        release, fill = col("stock_release"), col("stock_fill")
        self.release_ids, self.fill_ids = release.ids, fill.ids
        self.stock = KeyMatcher(_keys(release.keys, ("region", "element", "origin")),
                                "region/element/origin")

        # shipping columns by tariff label ("EXPORTER>IMPORTER:product")
        by_label: dict[str, list[int]] = {}
        for name, labels in model.tariff_labels.items():
            for label, column in zip(labels.tolist(), col(name).ids.tolist(), strict=True):
                by_label.setdefault(label, []).append(column)
        self.tariff_columns = {label: np.asarray(ids, dtype=np.int64)
                               for label, ids in by_label.items()}


def _keys(table: pd.DataFrame, columns: tuple[str, ...]) -> list[Key]:
    """The rows of ``table`` as tuples of ``columns`` (Python scalars)."""
    return list(zip(*(table[c].tolist() for c in columns), strict=True))


def _fill0(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN replaced by 0 (infinities kept), like ``fillna(0.0)``."""
    return np.where(np.isnan(values), 0.0, values)
