"""``capacity_support`` on the market: public money that advances or adds facility capacity.

Each year the supported facility's schedule moves ``advance_years`` earlier - never earlier
than the year the support is granted (``start``) - and ``adds_t`` t/y of nameplate is added from
``from_year`` (default: the facility's own, advanced start), following the facility's ramp-up
(``ramp_years``). Both act through ``inputs.capacity`` (see
:meth:`~rareflow.policy.base.YearContext.apply_capacity`), composing with the run's
:class:`~rareflow.engine.simulate.Schedule` delays.

``account`` records ``amount_usd_m`` as fiscal cost (USD million) in the year support is granted
(the first simulated year when no ``start`` is given). Grants, equity and loans are all counted
at face value: the model does not net out repayments or equity value.
"""

from __future__ import annotations

from rareflow.policy.base import AccountContext, Effect, Outcome, YearContext
from rareflow.scenario.dates import start_date
from rareflow.scenario.instruments import CapacitySupport


def ramp_share(year: int, first: int, ramp_years: int) -> float:
    """Share of added nameplate available in ``year`` for capacity starting in ``first``."""
    if year < first:
        return 0.0
    return min(1.0, (year - first + 1) / (ramp_years + 1))


class CapacitySupportEffect(Effect[CapacitySupport]):
    """Advance and add capacity of supported facilities; report the support as fiscal cost."""

    order = 10

    def adjust(self, ctx: YearContext) -> None:
        """Record advances and additions in the year's capacity plan."""
        for policy in self.policies:
            if policy.active_fraction(ctx.year) <= 0:
                continue
            facility = ctx.world.facility(policy.facility)
            begin = ctx.scheduled_start(policy.facility)
            granted = None if policy.start is None else start_date(policy.start).year
            advance = float(policy.advance_years)
            if granted is not None:
                advance = min(advance, max(0.0, float(begin - granted)))
            if advance:
                plan = ctx.capacity.advance
                plan[policy.facility] = plan.get(policy.facility, 0.0) + advance
            if policy.adds_t:
                first = policy.from_year if policy.from_year is not None else int(begin - advance)
                added = policy.adds_t * ramp_share(ctx.year, first, facility.ramp_years)
                plan_added = ctx.capacity.added
                plan_added[policy.facility] = plan_added.get(policy.facility, 0.0) + added

    def account(self, ctx: AccountContext) -> Outcome:
        """The support amount as fiscal cost in the year it is granted."""
        outcome = Outcome()
        first_year = ctx.year_context.state.previous is None
        for policy in self.policies:
            granted = None if policy.start is None else start_date(policy.start).year
            if granted == ctx.year or (granted is None and first_year):
                outcome.fiscal_usd_m[policy.id] = policy.amount_usd_m
        return outcome
