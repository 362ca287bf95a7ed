"""``stockpile`` on the market: a government stock that fills up to a target and releases.

The network has stock columns only for regions that hold a stockpile in ``world.stockpiles``,
and ``inputs.stock`` rows only for those (region, element) pairs. :func:`stockpile_world` (used
by :func:`~rareflow.policy.program.compile_policies`) therefore returns a copy of the
world with a stockpile record added for every policy stock the world lacks (``initial_t``,
capacity ``target_t``); the market **must be built from that world**
(``program.world``) - :meth:`StockpileEffect.declare` raises otherwise.

Each active year, for the policy's (region, element):

* capacity = max(world capacity, ``target_t``); release price (the LP releases when this
  year's price exceeds it) = ``release.price_above_usd_per_kg``, or, with only
  ``on_shortfall``, ``SHORTFALL_MARKUP`` x last year's price (a jump in price stands for a
  shortage; the LP has no per-sector routing of released stock);
* fill: up to ``min(fill_rate x active share, target - level)`` t, none in a year after one whose
  price exceeded the release threshold. Stock may be bought of either origin tag (a second,
  empty ``other``-origin stock row is added; one policy row caps the two fill columns together),
  at a bid of ``min(FILL_BID_MARKUP x last year's price, 0.99 x release price)`` USD/kg (at
  least ``MIN_BID``) - the stockpile is a buyer at about market price that never pays what would
  make it release.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rareflow.engine.network import Network
from rareflow.model.market import Stockpile as StockRecord
from rareflow.model.world import World
from rareflow.policy.base import AccountContext, Effect, Outcome, YearContext, local_table
from rareflow.scenario.instruments import Stockpile

ROWS = "policy_stock_fill"
#: Release price as a multiple of last year's price for shortfall-only release rules.
#: Assumption: a 50 % price jump signals a shortage.
SHORTFALL_MARKUP = 1.5
#: The stockpile bids up to this multiple of last year's price while filling. Assumption.
FILL_BID_MARKUP = 1.25
#: Lowest bid (USD/kg), so that a stock of a surplus element (price ~0) still fills.
MIN_BID = 1.0


def stockpile_world(world: World, policies: list[Stockpile]) -> World:
    """``world`` with a stockpile record for every policy stock it lacks (or ``world`` itself)."""
    have = {(s.region, s.element) for s in world.stockpiles}
    added = []
    for policy in policies:
        key = (policy.region, policy.tracked_element())
        if key in have:
            continue
        have.add(key)
        added.append(StockRecord(
            region=policy.region, element=policy.tracked_element(), initial_t=policy.initial_t,
            capacity_t=policy.target_t,
            assumption=f"policy stockpile '{policy.id}' (scenario), added by compile_policies"))
    if not added:
        return world
    return world.model_copy(update={"stockpiles": (*world.stockpiles, *added)})


class StockpileEffect(Effect[Stockpile]):
    """Fill and release rules of policy stockpiles through ``inputs.stock``."""

    row_families = (ROWS,)
    order = 20

    def declare(self, network: Network) -> None:
        """Check the stock exists in the network's world; one joint fill-cap row per policy."""
        have = {(s.region, s.element) for s in network.world.stockpiles}
        missing = [p.id for p in self.policies if (p.region, p.tracked_element()) not in have]
        if missing:
            raise ValueError(
                f"stockpile policies {missing} need stock columns the market lacks: build the "
                "market from the world returned by compile_policies (program.world)")
        keys = pd.DataFrame({"policy": [p.id for p in self.policies]}, dtype=object)
        family = network.lp.add_rows(ROWS, keys)
        fill = local_table(network.col("stock_fill"))
        for index, policy in enumerate(self.policies):
            cols = fill.loc[(fill.region == policy.region)
                            & (fill.element == policy.tracked_element()), "col"]
            network.lp.add_terms(np.full(len(cols), family.ids[index]),
                                 cols.to_numpy(dtype=np.int64), np.ones(len(cols)))

    def adjust(self, ctx: YearContext) -> None:
        """Set capacity, fill bounds, release price and bid of each active policy stock."""
        stock = ctx.inputs.stock.copy()
        _, upper = ctx.rows(ROWS)
        fill = local_table(ctx.network.col("stock_fill"))
        for index, policy in enumerate(self.policies):
            active = policy.active_fraction(ctx.year)
            if active <= 0:
                continue
            element = policy.tracked_element()
            here = (stock.region == policy.region) & (stock.element == element)
            level = float(stock.loc[here, "level"].sum())
            probe = pd.DataFrame({"region": [policy.region], "element": [element],
                                  "origin": ["other"]})
            price = float(ctx.price("separation", probe)[0]) if ctx.reference else 0.0
            threshold = policy.release.price_above_usd_per_kg
            release_price = threshold if threshold is not None else SHORTFALL_MARKUP * price
            releasing = threshold is not None and ctx.reference is not None and price > threshold
            amount = 0.0 if releasing else min(policy.fill_rate_t_per_y * active,
                                               max(0.0, policy.target_t - level))
            stock.loc[here, "capacity"] = np.maximum(stock.loc[here, "capacity"], policy.target_t)
            stock.loc[here, "release_price"] = release_price
            stock.loc[here, "fill_min"] = 0.0
            stock.loc[here, "fill_max"] = amount
            other = here & (stock.origin == "other")
            if not other.any():
                row = stock.loc[here].iloc[[0]].assign(origin="other", level=0.0,
                                                       fill_max=amount)
                stock = pd.concat([stock, row], ignore_index=True)
            upper[index] = amount
            bid = max(MIN_BID, min(FILL_BID_MARKUP * price, 0.99 * release_price))
            cols = fill.loc[(fill.region == policy.region) & (fill.element == element), "local"]
            ctx.add_cost("stock_fill", cols.to_numpy(), -bid)
        ctx.update_inputs(stock=stock)

    def account(self, ctx: AccountContext) -> Outcome:
        """Purchases for the stock are not counted as fiscal cost here (see metrics)."""
        return Outcome()
