"""``recycling_target`` on the market: recycled oxide must cover a share of a region's demand.

One row per policy with ``enforcement: constraint``:

``Σ recycled oxide made in the region (recycle columns x recovery) + shortfall >= target``,

with ``target = required_share(year) x active share x D`` and ``D`` the region's (or group's)
oxide-equivalent magnet demand of the year - magnet demand (t magnet) times the t REO per t of
each sector's magnet mix. The ``shortfall`` slack column costs ``SHORTFALL_PENALTY`` USD/kg, so
the target pulls recycling up (at up to that cost per kg) but never makes a year infeasible.
``account`` reports the shortfall ``max(0, target - recycled)`` in t REO for every policy,
benchmarks (no row) included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rareflow.engine.inputs import YearInputs
from rareflow.engine.network import Network
from rareflow.policy.base import (
    AccountContext,
    Effect,
    Outcome,
    YearContext,
    areas,
)
from rareflow.scenario.instruments import RecyclingTarget

ROWS = "policy_recycling"
SLACK = "policy_recycling_slack"
#: USD per kg of recycled oxide missing from a target. Assumption: well above the cost of any
#: recycling route, well below the value of served demand in the tiny and full worlds.
SHORTFALL_PENALTY = 500.0


def oxide_equivalent_demand(network: Network, inputs: YearInputs, regions: list[str]) -> float:
    """Magnet demand of ``regions`` in t REO (sector mix x recipe contents)."""
    content = network.magnet_mix.merge(network.recipes, on="grade_id")
    per_sector = (content.mix * content.content).groupby(content.sector).sum()
    demand = inputs.magnet_demand.loc[inputs.magnet_demand.region.isin(regions)]
    return float((demand.quantity * demand.sector.map(per_sector).fillna(0.0)).sum())


class RecyclingTargetEffect(Effect[RecyclingTarget]):
    """Recycling floor rows with a penalised shortfall."""

    row_families = (ROWS,)
    slack_families = (SLACK,)
    order = 40

    def declare(self, network: Network) -> None:
        """A row and a shortfall column per constraint policy."""
        bound = [p for p in self.policies if p.enforcement == "constraint"]
        keys = pd.DataFrame({"policy": [p.id for p in bound]}, dtype=object)
        rows = network.lp.add_rows(ROWS, keys)
        slack = network.lp.add_columns(SLACK, keys)
        network.lp.add_terms(rows.ids, slack.ids, np.ones(rows.size))
        recycled = network.outputs.loc[network.outputs.family == "recycle"]
        for index, policy in enumerate(bound):
            members = areas(network.world, policy.region)
            cols = recycled.loc[recycled.region.isin(members)]
            network.lp.add_terms(np.full(len(cols), rows.ids[index]),
                                 cols.col.to_numpy(dtype=np.int64),
                                 cols.coef.to_numpy(dtype=float))
        self.bound = [p.id for p in bound]

    def adjust(self, ctx: YearContext) -> None:
        """Set each active target as the row's lower bound; open its penalised shortfall."""
        lower, _ = ctx.rows(ROWS)
        targets: dict[str, float] = {}
        for policy in self.policies:
            share = policy.required_share(ctx.year) * policy.active_fraction(ctx.year)
            if share <= 0:
                continue
            members = areas(ctx.world, policy.region)
            target = share * oxide_equivalent_demand(ctx.network, ctx.inputs, members)
            targets[policy.id] = target
            if policy.id in self.bound:
                index = self.bound.index(policy.id)
                lower[index] = target
                ctx.ban(SLACK, np.array([index]), banned=False)
                ctx.add_cost(SLACK, np.array([index]), SHORTFALL_PENALTY)
        ctx.notes["recycling_target"] = targets

    def account(self, ctx: AccountContext) -> Outcome:
        """Shortfall (t REO) against each target."""
        outcome = Outcome()
        targets = ctx.year_context.notes.get("recycling_target", {})
        assert isinstance(targets, dict)
        recycled = ctx.data("recycled").sum("element")
        for policy in self.policies:
            if policy.id not in targets:
                continue
            members = areas(ctx.network.world, policy.region)
            done = float(recycled.sel(region=members).sum())
            outcome.shortfall_t[policy.id] = max(0.0, float(targets[policy.id]) - done)
        return outcome
