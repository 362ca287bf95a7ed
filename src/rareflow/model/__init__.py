"""Domain schemas: regions, deposits, facilities, sectors, recipes and the world that holds them."""

from rareflow.model.deposits import Deposit
from rareflow.model.elements import (
    ELEMENTS,
    MAGNET_ELEMENTS,
    ORIGINS,
    STAGES,
    Element,
    Origin,
    Stage,
)
from rareflow.model.errors import DataError, closest_name
from rareflow.model.facilities import Facility, FacilityStatus
from rareflow.model.market import (
    MineProduction,
    Provenance,
    ReferencePrice,
    ScrapSupply,
    StageShare,
    Stockpile,
    TradeCosts,
)
from rareflow.model.regions import Region
from rareflow.model.sectors import MagnetGrade, Sector, SectorDemand, Substitution
from rareflow.model.world import World

__all__ = [
    "ELEMENTS",
    "MAGNET_ELEMENTS",
    "ORIGINS",
    "STAGES",
    "DataError",
    "Deposit",
    "Element",
    "Facility",
    "FacilityStatus",
    "MagnetGrade",
    "MineProduction",
    "Origin",
    "Provenance",
    "ReferencePrice",
    "Region",
    "ScrapSupply",
    "Sector",
    "SectorDemand",
    "Stage",
    "StageShare",
    "Stockpile",
    "Substitution",
    "TradeCosts",
    "World",
    "closest_name",
]
