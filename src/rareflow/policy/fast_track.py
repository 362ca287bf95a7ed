"""``fast_track`` on the market: covered projects start ``lead_time_reduction_years`` earlier.

Covered facilities lie in ``region`` (a region or group), have a status in ``applies_to`` and,
if ``stages`` is given, one of those stages. While the programme is active their schedule moves
earlier by the reduction (fractional years interpolate capacity between whole-year shifts),
never to before the year after the programme starts, and never below zero delay for an
operating plant. It acts through ``inputs.capacity`` and composes additively with
``capacity_support`` advances. No fiscal cost is reported.
"""

from __future__ import annotations

from rareflow.policy.base import Effect, YearContext, areas
from rareflow.scenario.dates import start_date
from rareflow.scenario.instruments import FastTrack


class FastTrackEffect(Effect[FastTrack]):
    """Earlier starts for covered projects."""

    order = 10

    def needs_reference(self) -> bool:
        """No: this effect reads no prices or flows of a reference year."""
        return False

    def adjust(self, ctx: YearContext) -> None:
        """Record the (bounded) advance of each covered facility in the capacity plan."""
        for policy in self.policies:
            if policy.active_fraction(ctx.year) <= 0:
                continue
            regions = set(areas(ctx.world, policy.region))
            earliest = None if policy.start is None else start_date(policy.start).year + 1
            for facility in ctx.world.facilities:
                if (facility.country not in regions or facility.status not in policy.applies_to
                        or (policy.stages is not None and facility.stage not in policy.stages)):
                    continue
                begin = ctx.scheduled_start(facility.id)
                advance = policy.lead_time_reduction_years
                if earliest is not None:
                    advance = min(advance, max(0.0, float(begin - earliest)))
                if facility.status == "operating":
                    advance = min(advance, float(ctx.schedule.delays.get(facility.id, 0)))
                if advance > 0:
                    plan = ctx.capacity.advance
                    plan[facility.id] = plan.get(facility.id, 0.0) + advance
