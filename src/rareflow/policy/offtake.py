"""``offtake`` on the market: a buyer region must receive a share of a facility's output.

One row per policy: ``deliveries into the buyer - share x facility output >= lower``, where

* a magnet plant's output is its ``magnet_make`` (t magnet) and deliveries are ``magnet_ship``
  from the plant's region to the buyer (plus the buyer's own ``magnet_use`` when the plant is in
  the buyer region);
* a metal plant's output is ``metal_make x recovery`` and deliveries ``metal_ship`` (plus
  ``magnet_metal_use`` at home);
* a separation plant's or recycler's output is its oxide (feed x element share x recovery,
  all elements) and deliveries ``oxide_ship`` (plus metal making, oxide end uses and stockpile
  fills at home).

Magnets (or oxide) are fungible in a region, so "the facility's output reaches the buyer" is the
linear statement that the region sends the buyer at least that much. The row is built once; a
partial year relaxes it to ``lower = -(1 - active share) x share x maximum output``. Mining and
concentration facilities are not supported (their row is never bound).

With ``price_usd_per_kg`` the covered share of output is credited ``contract - last year's
market value`` per kg (a negative cost, or a charge if the contract is below market), and
``account`` reports ``fiscal_cost = max(0, Σ share x (contract - this year's market value) x
output x active share)`` (USD million) to the buyer. ``guaranteed`` adds nothing beyond that
credit (a contract price above cost already makes the plant run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.lpcore import INF
from rareflow.engine.network import Network
from rareflow.policy.base import (
    PRICE_STAGE,
    AccountContext,
    Effect,
    Outcome,
    YearContext,
    local_table,
    lookup_magnet_price,
    lookup_price,
)
from rareflow.scenario.instruments import Offtake

ROWS = "policy_offtake"
SUPPORTED = ("magnet", "metal", "separation", "recycling")


def output_columns(network: Network, facility_id: str) -> pd.DataFrame:
    """Output of a facility per unit of each of its columns, with what prices it.

    Columns: ``family``, ``local``, ``col``, ``region``, ``element``, ``origin``, ``grade_id``,
    ``coef`` and ``stage`` (price stage; '' for magnets, priced by grade).
    """
    facility = network.world.facility(facility_id)
    columns = ["family", "local", "col", "region", "element", "origin", "grade_id", "coef",
               "stage"]
    if facility.stage == "magnet":
        make = local_table(network.col("magnet_make"))
        make = make.loc[make.facility == facility_id]
        table = make.assign(family="magnet_make", coef=1.0, element="", stage="")
    elif facility.stage in ("metal", "separation", "recycling"):
        outputs = network.outputs
        table = outputs.loc[outputs.facility == facility_id]
        table = table.assign(stage=table["product"].map(PRICE_STAGE))
    else:
        return pd.DataFrame(columns=columns)
    return table.loc[table.coef > 0, columns].reset_index(drop=True)


def _deliveries(network: Network, stage: str, origin: str, buyer: str) -> pd.DataFrame:
    """Columns that bring a stage's product from region ``origin`` to ``buyer`` (coef 1)."""
    ship = {"magnet": "magnet_ship", "metal": "metal_ship"}.get(stage, "oxide_ship")
    table = local_table(network.col(ship))
    tables = [table.loc[(table.exporter == origin) & (table.importer == buyer), ["col"]]]
    if origin == buyer:
        uses = {"magnet": ["magnet_use"], "metal": ["magnet_metal_use"]}.get(
            stage, ["metal_make", "oxide_use", "stock_fill"])
        for name in uses:
            use = local_table(network.col(name))
            tables.append(use.loc[use.region == buyer, ["col"]])
    return pd.concat(tables, ignore_index=True).assign(coef=1.0)


def market_value(reference: xr.Dataset | None, table: pd.DataFrame) -> np.ndarray:
    """Market value (USD per unit) of each output row of :func:`output_columns`."""
    value = np.zeros(len(table))
    magnets = (table.stage == "").to_numpy()
    if magnets.any():
        value[magnets] = lookup_magnet_price(reference, table.loc[magnets])
    for stage in ("metal", "separation"):
        rows = (table.stage == stage).to_numpy()
        if rows.any():
            value[rows] = lookup_price(reference, stage, table.loc[rows])
    return np.asarray(value * table.coef.to_numpy(dtype=float), dtype=float)


class OfftakeEffect(Effect[Offtake]):
    """Delivery rows for offtake contracts; credits and fiscal cost of contract prices."""

    row_families = (ROWS,)
    order = 40

    def declare(self, network: Network) -> None:
        """One row per policy: deliveries - share x output >= bound."""
        keys = pd.DataFrame({"policy": [p.id for p in self.policies]}, dtype=object)
        family = network.lp.add_rows(ROWS, keys)
        self.outputs: dict[str, pd.DataFrame] = {}
        self.max_output: dict[str, float] = {}
        for index, policy in enumerate(self.policies):
            facility = network.world.facility(policy.facility)
            if facility.stage not in SUPPORTED:
                continue
            out = output_columns(network, policy.facility)
            per_col = out.groupby("col").coef.sum()
            network.lp.add_terms(np.full(len(per_col), family.ids[index]),
                                 per_col.index.to_numpy(dtype=np.int64),
                                 -policy.share * per_col.to_numpy(dtype=float))
            deliveries = _deliveries(network, facility.stage, facility.country, policy.buyer)
            network.lp.add_terms(np.full(len(deliveries), family.ids[index]),
                                 deliveries.col.to_numpy(dtype=np.int64),
                                 deliveries.coef.to_numpy(dtype=float))
            self.outputs[policy.id] = out
            self.max_output[policy.id] = float(per_col.max()) if len(per_col) else 0.0

    def adjust(self, ctx: YearContext) -> None:
        """Bind active rows; credit the contract price's gap to market value."""
        lower, _ = ctx.rows(ROWS)
        for index, policy in enumerate(self.policies):
            active = policy.active_fraction(ctx.year)
            out = self.outputs.get(policy.id)
            if active <= 0 or out is None:
                continue
            capacity = float(ctx.inputs.capacity.get(policy.facility, 0.0))
            slack = (1.0 - active) * policy.share * capacity * self.max_output[policy.id]
            lower[index] = -slack if active < 1.0 else 0.0
            if policy.price_usd_per_kg is not None:
                gap = policy.price_usd_per_kg * out.coef.to_numpy() - market_value(
                    ctx.reference, out)
                credit = policy.share * gap * active
                for family, group in out.assign(credit=credit).groupby("family"):
                    ctx.add_cost(str(family), group.local.to_numpy(),
                                 -group.credit.to_numpy(dtype=float))
        if lower.size:
            lower[np.isnan(lower)] = -INF

    def account(self, ctx: AccountContext) -> Outcome:
        """Fiscal cost of contract prices above this year's market value (USD million)."""
        outcome = Outcome()
        for policy in self.policies:
            out = self.outputs.get(policy.id)
            active = policy.active_fraction(ctx.year)
            if policy.price_usd_per_kg is None or out is None or active <= 0:
                continue
            flows = np.zeros(len(out))
            for family, group in out.groupby("family"):
                values = ctx.values(str(family))
                if values is not None:
                    flows[group.index.to_numpy()] = values[group.local.to_numpy(dtype=np.int64)]
            gap = policy.price_usd_per_kg * out.coef.to_numpy() - market_value(ctx.result, out)
            cost = policy.share * float(np.dot(gap, flows)) * active / 1000.0
            outcome.fiscal_usd_m[policy.id] = max(0.0, cost)
        return outcome
