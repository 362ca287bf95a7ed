"""``substitution`` on the market: a substitute technology may serve part of a sector's demand.

The market has one substitute column per (region, sector), bounded by ``substitution_available``
x demand and costing ``substitution_cost`` USD per kg of magnet demand replaced. A policy
replaces the world's option for its sector:

* ``region: all`` - ``inputs.substitution_available[sector] = available_share(year) x active
  share`` and ``inputs.substitution_cost[sector] = cost_usd_per_kg``;
* a region or group - the ``substitute_limit`` rows of the covered (region, sector) pairs get
  that share (the whole row family's bounds are recomputed from the adjusted inputs), and their
  substitute columns an extra cost bringing them to ``cost_usd_per_kg``.

Approximation: ``saves`` (e.g. a Dy-free grade that saves only Dy and Tb) is not modelled - the
substitute replaces whole magnets, at the given cost per kg of magnet demand.
"""

from __future__ import annotations

import numpy as np

from rareflow.engine.lpcore import INF
from rareflow.policy.base import Effect, YearContext, areas
from rareflow.scenario.instruments import Substitution
from rareflow.scenario.names import ALL


class SubstitutionEffect(Effect[Substitution]):
    """Availability and cost of substitutes per sector (and region)."""

    order = 60

    def needs_reference(self) -> bool:
        """No: this effect reads no prices or flows of a reference year."""
        return False

    def adjust(self, ctx: YearContext) -> None:
        """Apply sector-wide policies to the inputs, regional ones to rows and costs."""
        available = ctx.inputs.substitution_available.copy()
        cost = ctx.inputs.substitution_cost.copy()
        regional: list[tuple[Substitution, float]] = []
        for policy in self.policies:
            share = policy.available_share(ctx.year) * policy.active_fraction(ctx.year)
            if policy.active_fraction(ctx.year) <= 0:
                continue
            if policy.region == ALL:
                available[policy.sector] = share
                cost[policy.sector] = policy.cost_usd_per_kg
            else:
                regional.append((policy, share))
        ctx.update_inputs(substitution_available=available, substitution_cost=cost)
        if not regional:
            return
        limit = ctx.network.row("substitute_limit")
        keys = limit.keys
        shares = np.array(keys.sector.map(available).fillna(0.0), dtype=float)
        extra = np.zeros(len(keys))
        base_cost = np.array(keys.sector.map(cost).fillna(0.0), dtype=float)
        for policy, share in regional:
            covered = (keys.sector == policy.sector) & keys.region.isin(
                areas(ctx.world, policy.region))
            mask = covered.to_numpy()
            shares[mask] = share
            extra[mask] = policy.cost_usd_per_kg - base_cost[mask]
        quantity = keys.merge(ctx.inputs.magnet_demand, on=["region", "sector"], how="left")
        upper = quantity.quantity.fillna(0.0).to_numpy(dtype=float) * shares
        ctx.row_bounds["substitute_limit"] = (np.full(len(keys), -INF), upper)
        subs = ctx.network.col("substitute").keys
        per_col = subs.merge(keys.assign(extra=extra), on=["region", "sector"], how="left")
        ctx.add_cost("substitute", np.arange(len(subs)),
                     per_col.extra.fillna(0.0).to_numpy(dtype=float))
