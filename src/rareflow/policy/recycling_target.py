"""``recycling_target`` on the market: counted recycled oxide must cover a share of demand.

What counts is what the target defines (``counts``): oxide recovered from collected end-of-life
magnets, and with ``pre_consumer`` also from magnet-making swarf. The market pools both scraps
in one balance per region, so the counted volume is bounded twice - by the recycled oxide made
in the region and by what the counted scrap can yield:

``credit <= Σ recycled oxide made in the region (recycle columns x recovery)``
``credit <= r x (end-of-life scrap collected [+ swarf generated in the region])``

with ``r`` the best recovery of the region's recyclers (0.95 without any). Recycling swarf when
the target does not count it therefore earns nothing. One target row per policy with
``enforcement: constraint``: ``credit + shortfall >= target``, ``target = required_share(year) x
active share x D`` and ``D`` the region's (or group's) oxide-equivalent magnet demand of the
year - magnet demand (t magnet) times the t REO per t of each sector's magnet mix. The
``shortfall`` slack column costs ``SHORTFALL_PENALTY`` USD/kg, so the target pulls recycling up
(at up to that cost per kg) but never makes a year infeasible.

Collection is the lever (``collection_rate``): the region's end-of-life scrap of the year is
scaled from the sectors' own collection rates (weighted by the year's magnet demand) up to the
policy's rate, ramped along the target's path; the extra scrap collected times
``collection_cost_usd_per_kg`` is the policy's fiscal cost.

``account`` reports for every policy, benchmarks (no row) included, the shortfall
``max(0, target - counted)`` in t REO with ``counted = min(recycled, r x counted scrap)``, and
the collection payments as fiscal cost (USD million).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rareflow.engine.inputs import YearInputs
from rareflow.engine.network import SWARF_SHARE, Network
from rareflow.model.world import World
from rareflow.policy.base import (
    AccountContext,
    Effect,
    Outcome,
    YearContext,
    areas,
)
from rareflow.scenario.instruments import RecyclingTarget

ROWS = "policy_recycling"
RECYCLED_ROWS = "policy_recycling_recycled"
SOURCE_ROWS = "policy_recycling_source"
SLACK = "policy_recycling_slack"
CREDIT = "policy_recycling_credit"
#: USD per kg of recycled oxide missing from a target. Assumption: well above the cost of any
#: recycling route, well below the value of served demand in the tiny and full worlds.
SHORTFALL_PENALTY = 500.0
#: Recovery assumed for a region without recyclers (the facility model's default yield).
DEFAULT_RECOVERY = 0.95


def oxide_equivalent_demand(network: Network, inputs: YearInputs, regions: list[str]) -> float:
    """Magnet demand of ``regions`` in t REO (sector mix x recipe contents)."""
    content = network.magnet_mix.merge(network.recipes, on="grade_id")
    per_sector = (content.mix * content.content).groupby(content.sector).sum()
    demand = inputs.magnet_demand.loc[inputs.magnet_demand.region.isin(regions)]
    return float((demand.quantity * demand.sector.map(per_sector).fillna(0.0)).sum())


def base_collection_rate(world: World, inputs: YearInputs, regions: list[str]) -> float:
    """The sectors' collection rates in ``regions``, weighted by the year's magnet demand."""
    demand = inputs.magnet_demand.loc[inputs.magnet_demand.region.isin(regions)]
    rates = {s.id: s.collection_rate for s in world.sectors}
    weight = float(demand.quantity.sum())
    if weight <= 0:
        return 0.0
    return float((demand.quantity * demand.sector.map(rates).fillna(0.0)).sum()) / weight


def recovery_of(world: World, regions: list[str]) -> float:
    """Best mass yield of the recyclers in ``regions`` (``DEFAULT_RECOVERY`` without any)."""
    yields = [f.recovery for f in world.facilities
              if f.stage == "recycling" and f.country in regions]
    return max(yields, default=DEFAULT_RECOVERY)


@dataclass
class YearTarget:
    """One policy's numbers in a year (t REO): target, counted scrap, yield, extra collection."""

    target: float
    end_of_life_t: float
    recovery: float
    extra_collected_t: float


class RecyclingTargetEffect(Effect[RecyclingTarget]):
    """Recycling floor rows on the counted recycled oxide, with a penalised shortfall."""

    row_families = (ROWS, RECYCLED_ROWS, SOURCE_ROWS)
    slack_families = (SLACK, CREDIT)
    order = 40

    def needs_reference(self) -> bool:
        """No: this effect reads no prices or flows of a reference year."""
        return False

    def declare(self, network: Network) -> None:
        """A target row, two credit bounds, a credit and a shortfall column per constraint."""
        bound = [p for p in self.policies if p.enforcement == "constraint"]
        keys = pd.DataFrame({"policy": [p.id for p in bound]}, dtype=object)
        rows = network.lp.add_rows(ROWS, keys)
        recycled_rows = network.lp.add_rows(RECYCLED_ROWS, keys)
        source_rows = network.lp.add_rows(SOURCE_ROWS, keys)
        slack = network.lp.add_columns(SLACK, keys)
        credit = network.lp.add_columns(CREDIT, keys)
        ones = np.ones(rows.size)
        network.lp.add_terms(rows.ids, slack.ids, ones)
        network.lp.add_terms(rows.ids, credit.ids, ones)
        network.lp.add_terms(recycled_rows.ids, credit.ids, ones)
        network.lp.add_terms(source_rows.ids, credit.ids, ones)
        outputs = network.outputs
        recycled = outputs.loc[outputs.family == "recycle"]
        made = outputs.loc[outputs.family == "magnet_make"]
        swarf_per_content = 1.0 / (1.0 - SWARF_SHARE) - 1.0
        self.swarf_terms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for policy in self.policies:
            members = areas(network.world, policy.region)
            cols = made.loc[made.region.isin(members)]
            self.swarf_terms[policy.id] = (cols.col.to_numpy(dtype=np.int64),
                                           cols.coef.to_numpy(dtype=float) * swarf_per_content)
        for index, policy in enumerate(bound):
            members = areas(network.world, policy.region)
            cols = recycled.loc[recycled.region.isin(members)]
            network.lp.add_terms(np.full(len(cols), recycled_rows.ids[index]),
                                 cols.col.to_numpy(dtype=np.int64),
                                 -cols.coef.to_numpy(dtype=float))
            if "pre_consumer" in policy.counts:
                swarf_cols, swarf_coef = self.swarf_terms[policy.id]
                recovery = recovery_of(network.world, members)
                network.lp.add_terms(np.full(len(swarf_cols), source_rows.ids[index]),
                                     swarf_cols, -recovery * swarf_coef)
        self.bound = [p.id for p in bound]

    def adjust(self, ctx: YearContext) -> None:
        """Collect more scrap; bound the credit by recycled oxide and counted scrap; set targets."""
        lower, _ = ctx.rows(ROWS)
        _, recycled_upper = ctx.rows(RECYCLED_ROWS)
        _, source_upper = ctx.rows(SOURCE_ROWS)
        targets: dict[str, YearTarget] = {}
        for policy in self.policies:
            ramp = policy.ramp(ctx.year) * policy.active_fraction(ctx.year)
            if ramp <= 0:
                continue
            members = areas(ctx.world, policy.region)
            extra = self._collect(ctx, policy, members, ramp)
            scrap = ctx.inputs.scrap
            end_of_life = float(scrap.loc[scrap.region.isin(members), "t"].sum())
            recovery = recovery_of(ctx.world, members)
            target = ramp * policy.share * oxide_equivalent_demand(ctx.network, ctx.inputs,
                                                                   members)
            targets[policy.id] = YearTarget(target, end_of_life, recovery, extra)
            if policy.id in self.bound:
                index = np.array([self.bound.index(policy.id)])
                lower[index] = target
                recycled_upper[index] = 0.0
                source_upper[index] = recovery * end_of_life
                ctx.ban(SLACK, index, banned=False)
                ctx.ban(CREDIT, index, banned=False)
                ctx.add_cost(SLACK, index, SHORTFALL_PENALTY)
        ctx.notes["recycling_target"] = targets

    def _collect(self, ctx: YearContext, policy: RecyclingTarget, members: list[str],
                 ramp: float) -> float:
        """Scale the members' end-of-life scrap up to the policy's collection rate; extra t."""
        if policy.collection_rate is None:
            return 0.0
        base = base_collection_rate(ctx.world, ctx.inputs, members)
        wanted = base + (policy.collection_rate - base) * ramp
        if base <= 0 or wanted <= base:
            return 0.0
        scrap = ctx.inputs.scrap
        inside = scrap.region.isin(members)
        before = float(scrap.loc[inside, "t"].sum())
        scaled = scrap.copy()
        scaled.loc[inside, "t"] = scaled.loc[inside, "t"] * (wanted / base)
        ctx.update_inputs(scrap=scaled)
        return before * (wanted / base - 1.0)

    def account(self, ctx: AccountContext) -> Outcome:
        """Shortfall (t REO) against each target; collection payments (USD million)."""
        outcome = Outcome()
        targets = ctx.year_context.notes.get("recycling_target", {})
        assert isinstance(targets, dict)
        recycled = ctx.data("recycled").sum("element")
        for policy in self.policies:
            year = targets.get(policy.id)
            if not isinstance(year, YearTarget):
                continue
            members = areas(ctx.network.world, policy.region)
            made = float(recycled.sel(region=members).sum())
            scrap = year.end_of_life_t
            if "pre_consumer" in policy.counts and ctx.col_value is not None:
                cols, coef = self.swarf_terms[policy.id]
                scrap += float(np.dot(ctx.col_value[cols], coef))
            counted = min(made, year.recovery * scrap)
            outcome.shortfall_t[policy.id] = max(0.0, year.target - counted)
            outcome.fiscal_usd_m[policy.id] = (year.extra_collected_t
                                               * policy.collection_cost_usd_per_kg / 1000.0)
        return outcome
