"""``capacity_support`` on the market: public money that advances or adds facility capacity.

Each year the supported facility's schedule moves ``advance_years`` earlier - never earlier
than the year the support is granted (``start``) - and ``adds_t`` t/y of nameplate is added from
``from_year`` (default: the facility's own, advanced start), following the facility's ramp-up
(``ramp_years``). Both act through ``inputs.capacity`` (see
:meth:`~rareflow.policy.base.YearContext.apply_capacity`), composing with the run's
:class:`~rareflow.engine.simulate.Schedule` delays.

``account`` records the support's expected fiscal cost (USD million), by component:

* ``grant``: ``amount_usd_m`` at face value in the year support is granted (the first simulated
  year when no ``start`` is given);
* ``equity_expected_loss``: ``expected_loss_share x amount`` in the year granted - an equity stake
  is an asset; only the part expected to be lost is a cost;
* ``loan_interest_subsidy`` and ``loan_expected_loss``: in each year of the loan's term from the
  year granted, ``(market rate - loan rate) x amount`` (negative when the loan is priced above the
  funder's cost of money) and ``yearly default probability x loss given default x amount``; the
  principal is taken as outstanding in full until repaid at the end of the term (a bullet loan),
  an upper bound for amortising loans.
"""

from __future__ import annotations

from collections.abc import Sequence

from rareflow.model.world import World
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

    def needs_reference(self) -> bool:
        """No: this effect reads no prices or flows of a reference year."""
        return False

    def __init__(self, policies: Sequence[CapacitySupport], world: World) -> None:
        super().__init__(policies, world)
        #: First simulated year of supports without a ``start`` (their grant year).
        self._granted: dict[str, int] = {}

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
        """Expected fiscal cost of each support in the year, by component (USD million)."""
        outcome = Outcome()
        first_year = ctx.year_context.state.previous is None
        for policy in self.policies:
            granted = None if policy.start is None else start_date(policy.start).year
            if granted is None and first_year:
                granted = ctx.year
                self._granted[policy.id] = ctx.year
            granted = self._granted.get(policy.id, granted)
            parts = support_cost(policy, granted, ctx.year)
            if parts:
                outcome.components[policy.id] = parts
                outcome.fiscal_usd_m[policy.id] = sum(parts.values())
        return outcome

    def reset(self) -> None:
        """Forget the grant years of supports without a ``start``."""
        self._granted = {}


def support_cost(policy: CapacitySupport, granted: int | None, year: int) -> dict[str, float]:
    """Fiscal cost components (USD million) of a support granted in ``granted``, in ``year``."""
    if granted is None or year < granted:
        return {}
    amount = float(policy.amount_usd_m)
    if policy.kind == "grant":
        return {"grant": amount} if year == granted else {}
    if policy.kind == "equity":
        return {"equity_expected_loss": policy.expected_loss_share * amount} if (
            year == granted) else {}
    if year >= granted + policy.term_years:
        return {}
    spread = (policy.market_rate_pct - policy.loan_rate_pct) / 100.0
    loss = policy.default_rate_pct / 100.0 * policy.loss_given_default
    return {"loan_interest_subsidy": spread * amount, "loan_expected_loss": loss * amount}
