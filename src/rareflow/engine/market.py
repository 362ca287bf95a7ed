"""The yearly market: one LP per world, re-solved year after year with new bounds and costs.

Units: flows in tonnes, costs and values in USD/kg. A cost of *c* USD/kg on a flow of *x* t is
*c·x* thousand USD, so the duals of the balance rows are directly prices in USD/kg.
The objective is total surplus: value of served demand minus production, transport, tariff,
disposal and substitution costs (HiGHS minimises its negative).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from rareflow.engine.diagnostics import InfeasibleYearError, explain_infeasibility
from rareflow.engine.inputs import YearInputs
from rareflow.engine.lpcore import INF, Family
from rareflow.engine.network import Network, build_network
from rareflow.model.world import World

#: USD/kg to keep surplus oxide as tailings or dispose of it (La/Ce "balance problem").
#: Assumption: order of magnitude of storage/neutralisation costs; no public figure.
DISPOSAL_COST = 0.5
#: USD/kg to stockpile unsold concentrate at the mine. Assumption, as above.
CONCENTRATE_STORE_COST = 0.2
#: A tie-breaking cost (USD/kg) for moves that should happen only when they add value.
EPSILON_COST = 1e-3


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
        self._static_cost = self._build_static_cost()
        self.col_lower = np.zeros(self.lp.n_cols)
        self.col_upper = np.full(self.lp.n_cols, INF)
        self.col_cost = self._static_cost.copy()
        self.row_lower = np.zeros(self.lp.n_rows)
        self.row_upper = np.zeros(self.lp.n_rows)
        self.inputs: YearInputs | None = None

    # ------------------------------------------------------------------ static data --
    def _facility_values(self, family: Family, column: str) -> np.ndarray:
        values = self.network.facilities.set_index("facility")[column]
        return family.keys["facility"].map(values).to_numpy(dtype=float)

    def _trade_cost(self, family: Family, product: str) -> np.ndarray:
        trade = self.world.trade
        base = {str(k): v for k, v in trade.transport_usd_per_kg.items()}.get(product, 0.0)
        keys = family.keys
        labels = keys["exporter"] + ">" + keys["importer"] + ":" + product
        tariffs = labels.map(trade.tariffs_usd_per_kg).fillna(0.0).to_numpy(dtype=float)
        return np.asarray(base + tariffs, dtype=float)

    def _build_static_cost(self) -> np.ndarray:
        cost = np.zeros(self.lp.n_cols)
        col = self.network.col
        for name in ("mine", "concentrate", "separate", "metal_make", "magnet_make", "recycle"):
            family = col(name)
            cost[family.ids] = self._facility_values(family, "unit_cost")
        for name, product in (("conc_ship", "concentrate"), ("oxide_ship", "oxide"),
                              ("metal_ship", "metal"), ("magnet_ship", "magnet")):
            family = col(name)
            cost[family.ids] = self._trade_cost(family, product)
        cost[col("oxide_dispose").ids] = DISPOSAL_COST
        cost[col("conc_store").ids] = CONCENTRATE_STORE_COST
        cost[col("oxide_downgrade").ids] = EPSILON_COST
        cost[col("magnet_use").ids] = EPSILON_COST
        return cost

    # ------------------------------------------------------------------ per year --
    def set_year(self, inputs: YearInputs, adjustments: Adjustments | None = None) -> None:
        """Copy one year's inputs (and policy adjustments) into bounds, costs and RHS."""
        net, col, row = self.network, self.network.col, self.network.row
        lower = np.zeros(self.lp.n_cols)
        upper = np.full(self.lp.n_cols, INF)
        cost = self._static_cost.copy()
        row_lower = np.zeros(self.lp.n_rows)
        row_upper = np.zeros(self.lp.n_rows)

        for stage in ("mining", "concentration", "separation", "metal", "magnet", "recycling"):
            family = row(f"{stage}_capacity")
            caps = family.keys["facility"].map(inputs.capacity).fillna(0.0).to_numpy(dtype=float)
            row_lower[family.ids] = -INF
            row_upper[family.ids] = caps

        # Magnets made in China always carry the China origin tag.
        make = col("magnet_make")
        clean_in_china = (make.keys.origin == "other") & (make.keys.region == net.china)
        upper[make.ids[clean_in_china.to_numpy()]] = 0.0
        clean = row("magnet_clean")
        row_upper[clean.ids] = INF

        self._set_demand(inputs, cost, upper, row_lower, row_upper)
        self._set_scrap_and_stock(inputs, cost, lower, upper, row_lower, row_upper)

        if adjustments is not None:
            for name, extra in adjustments.extra_cost.items():
                cost[col(name).ids] += extra
            for name, scale in adjustments.upper_scale.items():
                ids = col(name).ids
                capped = np.where(scale < 1.0, np.minimum(upper[ids], INF), upper[ids])
                upper[ids] = np.where(scale <= 0.0, 0.0, capped)
            for name, (lo, hi) in adjustments.row_bounds.items():
                ids = row(name).ids
                row_lower[ids] = lo
                row_upper[ids] = hi

        self._push(lower, upper, cost, row_lower, row_upper)
        self.inputs = inputs

    def _set_demand(
        self,
        inputs: YearInputs,
        cost: np.ndarray,
        upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
    ) -> None:
        world, col, row = self.world, self.network.col, self.network.row
        block_rows = [
            {"sector": s.id, "block": b, "share": blk.share, "price": blk.price_usd_per_kg}
            for s in world.sectors if s.kind == "magnet" for b, blk in enumerate(s.blocks)
        ]
        blocks = col("demand_block").keys.merge(
            pd.DataFrame(block_rows, columns=["sector", "block", "share", "price"]),
            on=["sector", "block"], how="left",
        ).merge(inputs.magnet_demand, on=["region", "sector"], how="left").fillna(0.0)
        ids = col("demand_block").ids
        upper[ids] = (blocks.share * blocks.quantity).to_numpy(dtype=float)
        cost[ids] = -blocks.price.to_numpy(dtype=float)

        subs = col("substitute")
        sub_cost = subs.keys.sector.map(inputs.substitution_cost).fillna(0.0)
        cost[subs.ids] = sub_cost.to_numpy(dtype=float)
        limit = row("substitute_limit")
        quantity = limit.keys.merge(inputs.magnet_demand, on=["region", "sector"], how="left")
        share = limit.keys.sector.map(inputs.substitution_available).fillna(0.0)
        row_lower[limit.ids] = -INF
        row_upper[limit.ids] = (quantity.quantity.fillna(0.0) * share).to_numpy(dtype=float)

        oxide_rows = [
            {"sector": s.id, "element": e, "block": b, "share": blk.share,
             "price": blk.price_usd_per_kg}
            for s in world.sectors if s.kind == "oxide"
            for e, curve in s.oxide_blocks.items() for b, blk in enumerate(curve)
        ]
        oxide = col("oxide_block").keys.merge(
            pd.DataFrame(oxide_rows, columns=["sector", "element", "block", "share", "price"]),
            on=["sector", "element", "block"], how="left",
        ).merge(inputs.oxide_demand, on=["region", "sector", "element"], how="left").fillna(0.0)
        ids = col("oxide_block").ids
        upper[ids] = (oxide.share * oxide.quantity).to_numpy(dtype=float)
        cost[ids] = -oxide.price.to_numpy(dtype=float)

    def _set_scrap_and_stock(
        self,
        inputs: YearInputs,
        cost: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
    ) -> None:
        col, row = self.network.col, self.network.row
        scrap = row("scrap_balance")
        eol = scrap.keys.merge(inputs.scrap, on=["region", "element", "origin"], how="left")
        rhs = eol["t"].fillna(0.0).to_numpy(dtype=float)
        row_lower[scrap.ids] = rhs
        row_upper[scrap.ids] = rhs

        keys = ["region", "element", "origin"]
        release, fill = col("stock_release"), col("stock_fill")
        stock = release.keys.merge(inputs.stock, on=keys, how="left").fillna(0.0)
        upper[release.ids] = stock.level.to_numpy(dtype=float)
        cost[release.ids] = stock.release_price.to_numpy(dtype=float)
        lower[fill.ids] = stock.fill_min.to_numpy(dtype=float)
        upper[fill.ids] = np.maximum(stock.fill_max.to_numpy(dtype=float),
                                     stock.fill_min.to_numpy(dtype=float))

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

    # ------------------------------------------------------------------ solving --
    def solve(self, warm: bool = True) -> Solution:
        """Solve the current year; raise :class:`InfeasibleYearError` naming the conflict."""
        if not warm:
            self.highs.clearSolver()
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
        return Solution(
            status="optimal",
            objective=float(info.objective_function_value),
            col_value=np.asarray(solution.col_value),
            row_dual=np.asarray(solution.row_dual),
            solve_seconds=elapsed,
            iterations=int(info.simplex_iteration_count),
        )
