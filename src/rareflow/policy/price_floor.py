"""``price_floor`` on the market: producers are paid the gap to the floor, as a negative cost.

For each listed producer, its output columns of the floored element are credited
``max(0, floor - last year's market price) x active share`` USD per kg of that element's output:

* ``oxide``: the plant's ``separate`` columns, per t of feed ``element share x recovery`` (the
  plant's t of element oxide per t of concentrate); a recycler's ``recycle`` columns of the
  element, per t ``recovery``;
* ``metal``: its ``metal_make`` columns of the element, ``recovery`` per t;
* ``magnet``: its ``magnet_make`` columns of grades containing the element, per kg of magnet
  against the grade's magnet price.

The market price is the reference price of the element (or magnet grade) in the producer's
region, for the origin its output carries. A myopic producer therefore runs as if paid the floor
on its whole output. Approximation: the credit is on production, not on sales - with a large
gap a producer may make more than the market takes (the surplus is disposed of), which is how a
floor paid on output behaves when the market is saturated.

``account`` reports ``fiscal_cost`` (USD million, to the payer, component ``floor_payment``) =
``max(0, floor - this year's price) x this year's covered volume x active share``, and where the
covered volume goes (``destinations``): each producer region's floored volume is split over that
region's dispositions of the product's element - its exports by importer and what stays at home
(output less exports) - pro rata; destinations to which all the floored producers have halted
sales (``trade_halt``) are left out, since the halt lets the region send them only other
producers' output. Products are fungible in a region, so the split is the floored volume's share
of each flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.network import SHIP_FAMILY, Network
from rareflow.model.world import World
from rareflow.policy.base import (
    AccountContext,
    Effect,
    Outcome,
    PricedRows,
    YearContext,
    local_table,
    lookup_magnet_price,
    lookup_price,
    traded_columns,
)
from rareflow.policy.trade_halt import NOTES as HALT_NOTES
from rareflow.policy.trade_halt import halted_destinations
from rareflow.scenario.instruments import PriceFloor


def floor_columns(network: Network, policy: PriceFloor) -> pd.DataFrame:
    """Covered output columns of a price floor, one row per (column, element).

    Columns: ``family``, ``local``, ``facility``, ``region``, ``element``, ``origin``,
    ``grade_id`` and ``coef`` (kg of covered output per unit of column activity).
    """
    element = policy.tracked_element()
    columns = ["family", "local", "facility", "region", "element", "origin", "grade_id", "coef"]
    if policy.product in ("oxide", "metal"):
        out = network.outputs
        table = out.loc[(out["product"] == policy.product) & out.facility.isin(policy.producers)
                        & (out.element == element), columns]
    else:
        make = local_table(network.col("magnet_make"))
        grades = network.recipes.loc[(network.recipes.element == element)
                                     & (network.recipes.content > 0), "grade_id"]
        make = make.loc[make.facility.isin(policy.producers) & make.grade_id.isin(grades)]
        table = make.assign(family="magnet_make", coef=1.0, element=element)[columns]
    return table.loc[table.coef > 0].reset_index(drop=True)


class _FamilyColumns:
    """Rows of a column table grouped by column family: ``(family, rows, local, coef)`` each.

    The grouping (pandas ``groupby("family")`` order) depends only on the table, which is fixed
    for a run, so it is worked out once.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.size = len(table)
        local = table["local"].to_numpy(dtype=np.int64)
        coef = table["coef"].to_numpy(dtype=float)
        # positions in the table (not its index labels), in ascending row order per family
        positions = table.groupby("family").indices
        self.groups = [(str(family), rows, local[rows], coef[rows])
                       for family, rows in sorted(positions.items())]

    def credit(self, ctx: YearContext, per_row: np.ndarray) -> None:
        """Add ``-per_row`` (USD per unit) to the cost of each row's column."""
        for family, rows, local, _ in self.groups:
            ctx.add_cost(family, local, -per_row[rows])

    def volume(self, ctx: AccountContext) -> np.ndarray:
        """Solved output of each row (column value x coef; 0 where the solution is unknown)."""
        volume = np.zeros(self.size)
        for family, rows, local, coef in self.groups:
            values = ctx.values(family)
            if values is not None:
                volume[rows] = values[local] * coef
        return volume

    def total(self, ctx: AccountContext) -> float:
        """Sum over families of ``dot(column values, coef)`` (0 where the solution is unknown)."""
        total = 0.0
        for family, _, local, coef in self.groups:
            values = ctx.values(family)
            if values is not None:
                total += float(np.dot(values[local], coef))
        return total


@dataclass
class _RegionDispositions:
    """What a producer region does with a floored product's element, as column positions.

    ``made``: the region's output columns of the element; ``export_local``, ``export_coef`` and
    ``importers``: its ship columns to other regions; ``producers``: the floored facilities there.
    """

    made: _FamilyColumns
    export_local: np.ndarray
    export_coef: np.ndarray
    importers: np.ndarray
    producers: list[str]


class _FloorLayout:
    """A price floor's covered columns and its producer regions' dispositions (once per run)."""

    def __init__(self, network: Network, policy: PriceFloor) -> None:
        self.network = network
        self.table = floor_columns(network, policy)
        self.rows = PricedRows(self.table)
        self.columns = _FamilyColumns(self.table)
        self.coef = self.table.coef.to_numpy(dtype=float)
        self.producer_regions = self.table.region.to_numpy()
        element = policy.tracked_element()
        ships = traded_columns(network, policy.product)
        ships = ships.loc[ships.element == element]
        made = network.outputs
        made = made.loc[(made["product"] == policy.product) & (made.element == element)]
        self.regions: dict[str, _RegionDispositions] = {}
        for region in sorted(set(self.producer_regions)):
            own = ships.loc[(ships.exporter == region) & (ships.importer != region)]
            self.regions[region] = _RegionDispositions(
                made=_FamilyColumns(made.loc[made.region == region]),
                export_local=own.local.to_numpy(dtype=np.int64),
                export_coef=own.coef.to_numpy(dtype=float),
                importers=own.importer.to_numpy(),
                producers=self.table.loc[self.table.region == region,
                                         "facility"].unique().tolist())


class PriceFloorEffect(Effect[PriceFloor]):
    """Negative costs (subsidies) on floored producers' output; fiscal cost of the gap."""

    order = 40

    def __init__(self, policies: Sequence[PriceFloor], world: World) -> None:
        super().__init__(policies, world)
        self._layouts: dict[str, _FloorLayout] = {}

    def _layout(self, network: Network, policy: PriceFloor) -> _FloorLayout:
        layout = self._layouts.get(policy.id)
        if layout is None or layout.network is not network:
            layout = self._layouts[policy.id] = _FloorLayout(network, policy)
        return layout

    def _gap(
        self, reference: xr.Dataset | None, policy: PriceFloor, rows: PricedRows
    ) -> np.ndarray:
        if policy.product == "magnet":
            price = lookup_magnet_price(reference, rows)
        else:
            stage = "separation" if policy.product == "oxide" else "metal"
            price = lookup_price(reference, stage, rows)
        return np.maximum(0.0, policy.floor_usd_per_kg - price)

    def adjust(self, ctx: YearContext) -> None:
        """Credit ``gap x coef x active share`` on each producer's output columns."""
        covered: dict[str, _FloorLayout] = {}
        for policy in self.policies:
            active = policy.active_fraction(ctx.year)
            if active <= 0:
                continue
            layout = self._layout(ctx.network, policy)
            gap = self._gap(ctx.reference, policy, layout.rows)
            layout.columns.credit(ctx, gap * layout.coef * active)
            covered[policy.id] = layout
        ctx.notes["price_floor"] = covered

    def account(self, ctx: AccountContext) -> Outcome:
        """Fiscal cost = max(0, floor - this year's price) x volume x active share (USD M)."""
        outcome = Outcome()
        covered = ctx.year_context.notes.get("price_floor", {})
        assert isinstance(covered, dict)
        for policy in self.policies:
            layout = covered.get(policy.id)
            if layout is None:
                continue
            gap = self._gap(ctx.result, policy, layout.rows)
            volume = layout.columns.volume(ctx)
            active = policy.active_fraction(ctx.year)
            cost = float(np.dot(gap, volume)) * active / 1000.0
            outcome.fiscal_usd_m[policy.id] = cost
            outcome.components[policy.id] = {"floor_payment": cost}
            outcome.destinations[policy.id] = floored_destinations(ctx, policy, layout, volume)
        return outcome


def floored_destinations(
    ctx: AccountContext, policy: PriceFloor, layout: _FloorLayout, volume: np.ndarray
) -> dict[str, float]:
    """Floored volume (``volume``, t per row of ``layout.table``) by destination region.

    Pro rata to each producer region's exports and home use of the element, leaving out
    destinations the floored producers have halted sales to (see the module docstring).
    """
    ship_values = ctx.values(SHIP_FAMILY[policy.product])
    out: dict[str, float] = {}
    by_region = pd.Series(volume).groupby(layout.producer_regions).sum()
    for region, floored in by_region.items():
        region = str(region)
        if floored <= 0:
            continue
        dispositions = layout.regions[region]
        produced = dispositions.made.total(ctx)
        exports: dict[str, float] = {}
        if ship_values is not None:
            flows = ship_values[dispositions.export_local] * dispositions.export_coef
            for importer, flow in pd.Series(flows).groupby(dispositions.importers).sum().items():
                if flow > 0:
                    exports[str(importer)] = float(flow)
        shipped = {**exports, region: max(0.0, produced - sum(exports.values()))}
        for destination in halted_destinations(ctx.year_context.notes.get(HALT_NOTES),
                                               dispositions.producers, policy.product):
            shipped.pop(destination, None)
        total = sum(shipped.values())
        shares = ({d: flow / total for d, flow in shipped.items()} if total > 0
                  else {region: 1.0})
        for destination, share in shares.items():
            out[destination] = out.get(destination, 0.0) + float(floored) * share
    return out
