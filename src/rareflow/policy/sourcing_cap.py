"""``sourcing_cap`` on the market: no single outside country above a share of a stage's use.

For every policy with ``enforcement: constraint``, per covered element:

* ``max_share`` - one row per outside supplier ``c`` (every region outside the importer group):
  ``imports of the stage's product from c into the group - max_share x group use - excess <= 0``;
* ``min_own_share`` - one row: ``min_own_share x group use - group production - excess <= 0``.

Stage → product, use and production (all t REO of the element):

=========== ================= ========================================= ====================
stage       imports           use (inputs of the next stage)            production
=========== ================= ========================================= ====================
mining      ``conc_ship``     ``separate`` (feed x element share)       ``mine`` x share
separation  ``oxide_ship``    ``metal_make`` + ``oxide_use``            separated oxide
metal       ``metal_ship``    ``magnet_metal_use``                      ``metal_make`` x rec.
magnet      ``magnet_ship``   ``magnet_use`` (x recipe content)         ``magnet_make`` x c.
=========== ================= ========================================= ====================

Suppliers are counted by origin, not by route (``docs/reliance.md``): China-origin oxide counts
against China whichever country ships it (oxide may be re-exported and keeps its origin tag),
and so do China-tagged metal and magnets shipped from a declared re-export hub; elsewhere metal
and magnets obey the rule of origin, so their exporter is their origin. A cap therefore cannot
be met by routing Chinese material through a third country.

``recycling`` has no traded product and gets no rows. Each row has an ``excess`` slack column
costing ``EXCESS_PENALTY`` USD/kg, so a cap the world cannot meet costs money instead of making
the year infeasible; ``account`` reports the summed excess (t REO) as the policy's shortfall.
Rows are relaxed outside the active years; in a partial year the bound is ``(1 - active
share) x`` last year's imports from the supplier (own-share rows: relaxed). Benchmarks
(``enforcement: benchmark``) add no rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rareflow.engine.lpcore import INF
from rareflow.engine.network import Network
from rareflow.policy.base import (
    AccountContext,
    Effect,
    Outcome,
    YearContext,
    areas,
    local_table,
    traded_columns,
)
from rareflow.scenario.instruments import SourcingCap

ROWS = "policy_sourcing"
SLACK = "policy_sourcing_slack"
#: USD per kg of imports above a cap (or own production below a floor). Assumption.
EXCESS_PENALTY = 200.0
PRODUCT = {"mining": "concentrate", "separation": "oxide", "metal": "metal", "magnet": "magnet"}
OWN = "(own)"


def stage_use(network: Network, stage: str) -> pd.DataFrame:
    """Use of a stage's product: ``col``, ``region``, ``element``, ``coef`` (t REO per unit)."""
    if stage == "mining":
        sep = local_table(network.col("separate")).merge(
            network.shares[["deposit", "element", "share"]], on="deposit")
        table = sep.assign(coef=sep.share)
    elif stage == "separation":
        table = pd.concat([local_table(network.col("metal_make")),
                           local_table(network.col("oxide_use"))]).assign(coef=1.0)
    elif stage == "metal":
        table = local_table(network.col("magnet_metal_use")).assign(coef=1.0)
    else:
        use = local_table(network.col("magnet_use")).merge(network.recipes, on="grade_id")
        table = use.assign(coef=use.content)
    return table.loc[table.coef > 0, ["col", "region", "element", "coef"]]


def stage_production(network: Network, stage: str) -> pd.DataFrame:
    """Production of a stage's product: ``col``, ``region``, ``element``, ``coef``."""
    recovery = network.facilities.set_index("facility").recovery.astype(float)
    shares = network.shares[["deposit", "element", "share"]]
    if stage == "mining":
        mine = local_table(network.col("mine")).merge(shares, on="deposit")
        table = mine.assign(coef=mine.share)
    elif stage == "separation":
        # the oxide each plant makes: only the elements it separates, from concentrate or from
        # mixed heavy concentrate (the network's output table)
        out = network.outputs
        table = out.loc[out.stage == "separation"]
    elif stage == "metal":
        metal = local_table(network.col("metal_make"))
        table = metal.assign(coef=metal.facility.map(recovery))
    else:
        make = local_table(network.col("magnet_make")).merge(network.recipes, on="grade_id")
        table = make.assign(coef=make.content)
    return table.loc[table.coef > 0, ["col", "region", "element", "coef"]]


def origin_supplier(network: Network, ship: pd.DataFrame, product: str) -> pd.Series:
    """The country a shipment is counted against (by origin, not by route).

    China for China-origin material that can have been re-exported (oxide; metal and magnets
    from a re-export hub), else the exporter.
    """
    hubs = set(network.world.trade.reexport_hubs)
    relabelable = (product == "oxide") | ship.exporter.isin(hubs)
    chinese = (ship.origin == "china") & relabelable
    return ship.exporter.where(~chinese, network.china)


class SourcingCapEffect(Effect[SourcingCap]):
    """Per-supplier import caps and own-production floors with penalised excess."""

    row_families = (ROWS,)
    slack_families = (SLACK,)
    order = 40

    def declare(self, network: Network) -> None:
        """Rows per (policy, supplier or own, element) with one excess column each."""
        terms: list[pd.DataFrame] = []
        for policy in self.policies:
            if policy.enforcement != "constraint" or policy.stage not in PRODUCT:
                continue
            group = areas(network.world, policy.importer)
            elements = list(policy.tracked_elements())
            use = stage_use(network, policy.stage)
            use = use.loc[use.region.isin(group) & use.element.isin(elements)]
            if policy.max_share is not None:
                ship = traded_columns(network, PRODUCT[policy.stage])
                ship = ship.loc[ship.importer.isin(group) & ~ship.exporter.isin(group)
                                & ship.element.isin(elements)]
                ship = ship.assign(supplier=origin_supplier(network, ship, PRODUCT[policy.stage]))
                ship = ship.loc[~ship.supplier.isin(group)]
                for supplier, imports in ship.groupby("supplier"):
                    shown = use.loc[use.element.isin(imports.element)]
                    terms.append(imports[["col", "element", "coef"]].assign(
                        supplier=supplier, policy=policy.id))
                    terms.append(shown[["col", "element"]].assign(
                        coef=-policy.max_share * shown.coef.to_numpy(dtype=float),
                        supplier=supplier, policy=policy.id))
            if policy.min_own_share is not None:
                made = stage_production(network, policy.stage)
                made = made.loc[made.region.isin(group) & made.element.isin(elements)]
                terms.append(made.assign(coef=-made.coef, supplier=OWN, policy=policy.id))
                terms.append(use.assign(coef=policy.min_own_share * use.coef, supplier=OWN,
                                        policy=policy.id))
        columns = ["policy", "supplier", "element", "col", "coef"]
        table = (pd.concat(terms, ignore_index=True)[columns] if terms
                 else pd.DataFrame(columns=columns))
        keys = table[["policy", "supplier", "element"]].drop_duplicates().reset_index(drop=True)
        rows = network.lp.add_rows(ROWS, keys)
        slack = network.lp.add_columns(SLACK, rows.keys)
        network.lp.add_terms(rows.ids, slack.ids, -np.ones(rows.size))
        located = table.merge(rows.keys.assign(row=rows.ids), on=["policy", "supplier", "element"])
        network.lp.add_terms(located.row.to_numpy(dtype=np.int64),
                             located.col.to_numpy(dtype=np.int64),
                             located.coef.to_numpy(dtype=float))
        self.keys = rows.keys

    def adjust(self, ctx: YearContext) -> None:
        """Bind the rows of active caps; open their penalised excess columns."""
        _, upper = ctx.rows(ROWS)
        for policy in self.policies:
            active = policy.active_fraction(ctx.year)
            rows = (self.keys.policy == policy.id).to_numpy()
            if active <= 0 or not rows.any():
                continue
            if active >= 1.0:
                upper[rows] = 0.0
            else:
                upper[rows] = np.where(self.keys.supplier[rows] == OWN, INF,
                                       (1.0 - active) * self._last_imports(ctx, policy, rows))
            local = np.flatnonzero(rows)
            ctx.ban(SLACK, local, banned=False)
            ctx.add_cost(SLACK, local, EXCESS_PENALTY)

    def _last_imports(self, ctx: YearContext, policy: SourcingCap, rows: np.ndarray) -> np.ndarray:
        if ctx.reference is None:
            return np.zeros(int(rows.sum()))
        trade = ctx.reference["trade"].sel(product=PRODUCT[policy.stage])
        if "year" in trade.dims:
            trade = trade.isel(year=0)
        group = areas(ctx.world, policy.importer)
        shipped = trade.sel(importer=group).sum("importer").to_series().rename("t").reset_index()
        shipped = shipped.loc[~shipped.exporter.isin(group)]
        shipped["supplier"] = origin_supplier(ctx.network, shipped, PRODUCT[policy.stage])
        flows = shipped.groupby(["supplier", "element"])["t"].sum()
        keys = self.keys.loc[rows]
        index = pd.MultiIndex.from_arrays([keys.supplier, keys.element])
        return flows.reindex(index).fillna(0.0).to_numpy(dtype=float)

    def account(self, ctx: AccountContext) -> Outcome:
        """Excess over each active cap (t REO), from the slack columns."""
        outcome = Outcome()
        values = ctx.values(SLACK)
        if values is None:
            return outcome
        for policy in self.policies:
            rows = (self.keys.policy == policy.id).to_numpy()
            if rows.any() and policy.active_fraction(ctx.year) > 0:
                outcome.shortfall_t[policy.id] = float(values[rows].sum())
        return outcome
