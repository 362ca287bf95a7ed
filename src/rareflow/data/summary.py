"""Headline figures of a world dataset: counts, mine output, capacity shares and demand totals.

Pure functions over a validated :class:`~rareflow.model.world.World`; ``rareflow data check``
renders them and the data tests compare them against the published calibration targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rareflow.model.elements import STAGES, Element, Stage
from rareflow.model.world import World

#: Vintage of reported mine production the bundled data is calibrated on.
CALIBRATION_VINTAGE = "USGS MCS 2025"


@dataclass(frozen=True)
class StageCapacity:
    """Capacity at one stage in one year: world total and China's part (t/y)."""

    stage: Stage
    world_t: float
    china_t: float

    @property
    def china_share(self) -> float:
        """China's share of world capacity (0 when the stage has no capacity)."""
        return self.china_t / self.world_t if self.world_t else 0.0


@dataclass(frozen=True)
class DataSummary:
    """The figures ``rareflow data check`` prints for one year."""

    name: str
    version: str
    year: int
    counts: dict[str, int]
    reported_mine_t: float
    reported_mine_china_t: float
    reported_mine_usa_t: float
    capacity: tuple[StageCapacity, ...]
    magnet_demand_t: dict[str, float]
    oxide_demand_t: dict[str, float]
    mined_by_element_t: dict[Element, float]
    magnet_content_t: dict[Element, float]

    def stage(self, stage: Stage) -> StageCapacity:
        """Capacity figures of ``stage``."""
        return next(item for item in self.capacity if item.stage == stage)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (capacity shares included)."""
        data = asdict(self)
        data["capacity"] = [
            {**asdict(item), "china_share": item.china_share} for item in self.capacity
        ]
        return data


def capacity_by_stage(world: World, year: int) -> tuple[StageCapacity, ...]:
    """World and Chinese capacity at every stage in ``year`` (t/y; magnets in t of magnet)."""
    china = world.china
    result = []
    for stage in STAGES:
        plants = [f for f in world.facilities if f.stage == stage]
        total = sum(f.capacity_in(year) for f in plants)
        in_china = sum(f.capacity_in(year) for f in plants if f.country == china)
        result.append(StageCapacity(stage, total, in_china))
    return tuple(result)


def reported_mine(world: World, year: int, vintage: str = CALIBRATION_VINTAGE) -> dict[str, float]:
    """Reported mine production by country in ``year`` from one ``vintage`` (t REO)."""
    return {
        item.country: item.t_reo
        for item in world.mine_production
        if item.year == year and item.vintage == vintage
    }


def mined_by_element(world: World, year: int) -> dict[Element, float]:
    """REO mined at full mining capacity in ``year``, split by the deposits' element shares."""
    totals = dict.fromkeys(world.elements, 0.0)
    for facility in world.facilities:
        if facility.stage != "mining" or facility.deposit is None:
            continue
        deposit = world.deposit(facility.deposit)
        for element, share in deposit.shares.items():
            totals[element] += facility.capacity_in(year) * share
    return totals


def magnet_content(world: World) -> dict[Element, float]:
    """Rare earths (t REO) contained in the base-year magnet demand rows, by element."""
    totals = dict.fromkeys(world.elements, 0.0)
    for row in world.demand:
        sector = world.sector(row.sector)
        for grade_id, share in sector.magnet_mix.items():
            for element, kg in world.magnet_grade(grade_id).content_kg_reo_per_t.items():
                totals[element] += row.tonnes * share * kg / 1000.0
    return totals


def summarize(world: World, year: int | None = None) -> DataSummary:
    """Compute the :class:`DataSummary` of ``world`` for ``year`` (default: the base year)."""
    year = world.provenance.base_year if year is None else year
    mine = reported_mine(world, year)
    magnet_demand: dict[str, float] = {}
    oxide_demand: dict[str, float] = {}
    for row in world.demand:
        if row.element is None:
            magnet_demand[row.sector] = magnet_demand.get(row.sector, 0.0) + row.tonnes
        else:
            oxide_demand[row.element] = oxide_demand.get(row.element, 0.0) + row.tonnes
    return DataSummary(
        name=world.provenance.name,
        version=world.provenance.version,
        year=year,
        counts={
            "regions": len(world.regions),
            "deposits": len(world.deposits),
            "facilities": len(world.facilities),
            "magnet_grades": len(world.magnet_grades),
            "sectors": len(world.sectors),
            "demand_rows": len(world.demand),
            "reference_prices": len(world.reference_prices),
            "stockpiles": len(world.stockpiles),
            "scrap_rows": len(world.scrap),
        },
        reported_mine_t=sum(mine.values()),
        reported_mine_china_t=mine.get(world.china, 0.0),
        reported_mine_usa_t=mine.get("USA", 0.0),
        capacity=capacity_by_stage(world, year),
        magnet_demand_t=magnet_demand,
        oxide_demand_t=oxide_demand,
        mined_by_element_t=dict(mined_by_element(world, year)),
        magnet_content_t=dict(magnet_content(world)),
    )
