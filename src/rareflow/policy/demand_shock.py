"""``demand_shock`` on the market: scale a sector's demand in the shocked years.

Rows of ``inputs.magnet_demand`` (magnet sectors) and ``inputs.oxide_demand`` (oxide sectors)
of the covered sector(s) and region(s) are multiplied by
:meth:`~rareflow.scenario.instruments.DemandShock.factor_in` (1 outside the shock, pro rata in a
partially suspended year). The shock does not compound into later years' growth, and magnets
in use follow served demand, so a shock also changes later end-of-life scrap.
"""

from __future__ import annotations

import pandas as pd

from rareflow.policy.base import Effect, YearContext, area_or_all
from rareflow.scenario.instruments import DemandShock
from rareflow.scenario.names import ALL


class DemandShockEffect(Effect[DemandShock]):
    """Multiply covered demand rows."""

    order = 0

    def needs_reference(self) -> bool:
        """No: this effect reads no prices or flows of a reference year."""
        return False

    def adjust(self, ctx: YearContext) -> None:
        """Scale magnet and oxide demand of the covered sectors and regions."""
        magnet = ctx.inputs.magnet_demand.copy()
        oxide = ctx.inputs.oxide_demand.copy()
        for policy in self.policies:
            factor = policy.factor_in(ctx.year)
            if factor == 1.0:
                continue
            regions = area_or_all(ctx.world, policy.region)
            for table in (magnet, oxide):
                hit = table.region.isin(regions)
                if policy.sector != ALL:
                    hit &= table.sector == policy.sector
                table.loc[hit, "quantity"] = table.loc[hit, "quantity"] * factor
        ctx.update_inputs(magnet_demand=pd.DataFrame(magnet), oxide_demand=pd.DataFrame(oxide))
