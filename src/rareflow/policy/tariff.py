"""``tariff`` on the market: an extra cost (or, if negative, a subsidy) on covered ship columns.

Covered columns: the product's ship family (``conc_ship``, ``oxide_ship``, ``metal_ship``,
``magnet_ship``) from any ``exporter`` region to any ``importer`` region (areas expanded) for the
listed elements (magnets: grades whose recipe contains one; concentrate: every feed, charged
per kg of its covered elements). The cost per kg of the column's unit is

* ``usd_per_kg`` - per kg of oxide or metal, per kg of magnet, per kg of covered REO in
  concentrate;
* ``ad_valorem`` - share x last year's price of the product at the exporter (oxide and metal:
  the element's price for the column's origin; magnets: the grade's price; concentrate: the
  highest concentrate price of the exporter),

times the active share of the year.

Tariffs apply by origin, not by route (``docs/reliance.md``): a tariff on exports from China
(its ``exporter`` areas include China) also covers China-origin oxide shipped from any other
exporter outside the importer regions (oxide may be re-exported and keeps its origin tag), and
China-tagged metal and magnets shipped from a declared re-export hub. Elsewhere metal and
magnets obey the rule of origin (a region exports only what it made), so the route is the
origin. Export subsidies (negative rates) are paid at the exporter's border and stay on the
route. A negative rate (export subsidy) is clawed back on the
covered product's shipments *into* the exporter regions from the importer regions (a re-import
duty of the same size), since otherwise shipping subsidised goods out and back would earn the
subsidy without limit (an unbounded LP). ``account`` reports the fiscal effect as
``fiscal_cost = - rate x flow`` (USD million): revenue of a tariff is a negative cost, an
export subsidy (negative tariff, e.g. ``price-war``) a positive one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rareflow.engine.network import SHIP_FAMILY, Network
from rareflow.model.world import World
from rareflow.policy.base import (
    PRICE_STAGE,
    AccountContext,
    Effect,
    Outcome,
    PricedRows,
    YearContext,
    area_or_all,
    traded_columns,
)
from rareflow.scenario.instruments import Tariff


class TariffEffect(Effect[Tariff]):
    """Per-kg or ad-valorem charges on covered ship columns."""

    order = 40

    def __init__(self, policies: Sequence[Tariff], world: World) -> None:
        super().__init__(policies, world)
        self._covered: dict[tuple[object, ...], PricedRows] = {}
        self._covered_network: Network | None = None

    def covered(self, ctx: YearContext, policy: Tariff, *, by_origin: bool = True
                ) -> PricedRows:
        """Covered ship columns (unique) with ``weight``: covered t REO per unit (concentrate).

        With ``by_origin`` (charges), China-origin material that can have been re-exported
        counts as shipped from China (see the module docstring). The columns depend on the
        network and the policy's route only, not on the year: they are found once per run.
        """
        key = (policy.product, policy.exporter, policy.importer,
               tuple(policy.tracked_elements()), by_origin)
        if self._covered_network is not ctx.network:
            self._covered.clear()
            self._covered_network = ctx.network
        rows = self._covered.get(key)
        if rows is None:
            rows = self._covered[key] = PricedRows(
                self._find_covered(ctx, policy, by_origin=by_origin))
        return rows

    def _find_covered(self, ctx: YearContext, policy: Tariff, *, by_origin: bool
                      ) -> pd.DataFrame:
        table = traded_columns(ctx.network, policy.product)
        exporters = area_or_all(ctx.world, policy.exporter)
        importers = area_or_all(ctx.world, policy.importer)
        route = table.exporter.isin(exporters)
        if by_origin and ctx.network.china in exporters:
            hubs = set(ctx.world.trade.reexport_hubs)
            relabelable = (policy.product == "oxide") | table.exporter.isin(hubs)
            route = route | ((table.origin == "china") & relabelable
                             & ~table.exporter.isin(importers))
        keep = (route & table.importer.isin(importers)
                & table.element.isin(policy.tracked_elements()))
        table = table.loc[keep]
        if policy.product == "concentrate":
            grouped = table.groupby(["local", "col", "exporter", "importer"], as_index=False)
            return grouped.agg(weight=("coef", "sum"), origin=("origin", "first"),
                               element=("element", "first"), grade_id=("grade_id", "first"))
        return table.drop_duplicates(["local"]).assign(weight=1.0)

    def clawback(self, ctx: YearContext, policy: Tariff) -> PricedRows:
        """Shipments back into the exporters of a subsidised product (charged the subsidy)."""
        reverse = policy.model_copy(update={"exporter": policy.importer,
                                            "importer": policy.exporter})
        return self.covered(ctx, reverse, by_origin=False)

    def rate(self, ctx: YearContext, policy: Tariff, rows: PricedRows) -> np.ndarray:
        """USD per unit of each covered column (before the active share)."""
        if policy.usd_per_kg is not None:
            return policy.usd_per_kg * rows.table.weight.to_numpy(dtype=float)
        assert policy.ad_valorem is not None
        if policy.product == "magnet":
            price = ctx.magnet_price(rows, region="exporter")
        elif policy.product == "concentrate":
            price = ctx.price(PRICE_STAGE["concentrate"], rows, region="exporter")
            price = price * rows.table.weight.to_numpy(dtype=float)
        else:
            price = ctx.price(PRICE_STAGE[policy.product], rows, region="exporter")
        return np.asarray(policy.ad_valorem * price, dtype=float)

    def adjust(self, ctx: YearContext) -> None:
        """Add each active tariff's rate to its covered columns."""
        charged: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}
        for policy in self.policies:
            active = policy.active_fraction(ctx.year)
            if active <= 0:
                continue
            subsidy = (policy.usd_per_kg or 0.0) < 0 or (policy.ad_valorem or 0.0) < 0
            rows = self.covered(ctx, policy, by_origin=not subsidy)
            rate = self.rate(ctx, policy, rows) * active
            table = rows.table
            if subsidy:
                back = self.clawback(ctx, policy)
                back_rate = -self.rate(ctx, policy, back) * active
                table = pd.concat([table, back.table], ignore_index=True)
                rate = np.concatenate([rate, back_rate])
            ctx.add_cost(SHIP_FAMILY[policy.product], table.local.to_numpy(), rate)
            charged[policy.id] = (table, rate)
        ctx.notes["tariff"] = charged

    def account(self, ctx: AccountContext) -> Outcome:
        """Fiscal cost = - rate x flow (USD million; revenue negative, subsidies positive)."""
        outcome = Outcome()
        charged = ctx.year_context.notes.get("tariff", {})
        assert isinstance(charged, dict)
        by_product = {p.id: p.product for p in self.policies}
        for policy_id, (table, rate) in charged.items():
            values = ctx.values(SHIP_FAMILY[by_product[policy_id]])
            if values is None:
                continue
            flow = values[table.local.to_numpy(dtype=np.int64)]
            outcome.fiscal_usd_m[policy_id] = -float(np.dot(rate, flow)) / 1000.0
        return outcome
