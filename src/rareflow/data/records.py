"""Which file holds which kind of record, and how records are keyed for overrides.

Each data file maps to one field of :class:`~rareflow.model.world.World`. Files of many records
are YAML lists; ``world.yaml`` and ``trade.yaml`` hold a single mapping. A record's *key* is what
an override file matches on: ``id`` where records have one, otherwise the fields that make a row
unique (for demand: region, sector, element and year).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rareflow.model.deposits import Deposit
from rareflow.model.facilities import Facility
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
from rareflow.model.sectors import MagnetGrade, Sector, SectorDemand

Key = tuple[Any, ...]


def _fields(*names: str) -> Callable[[Mapping[str, Any]], Key]:
    def key(record: Mapping[str, Any]) -> Key:
        return tuple(record.get(name) for name in names)

    return key


@dataclass(frozen=True)
class RecordFile:
    """One bundled data file: its name, the ``World`` field it fills and its record model."""

    name: str
    field: str
    model: type[BaseModel]
    key: Callable[[Mapping[str, Any]], Key] | None = None

    @property
    def single(self) -> bool:
        """True for files holding one mapping rather than a list of records."""
        return self.key is None

    def label(self, record: Mapping[str, Any]) -> str:
        """How messages name ``record``: its id, or its key fields joined by '/'."""
        if self.key is None:
            return self.field
        return "/".join(str(part) for part in self.key(record) if part is not None)


_by_id = _fields("id")

RECORD_FILES: tuple[RecordFile, ...] = (
    RecordFile("world.yaml", "provenance", Provenance),
    RecordFile("regions.yaml", "regions", Region, _by_id),
    RecordFile("deposits.yaml", "deposits", Deposit, _by_id),
    RecordFile("facilities.yaml", "facilities", Facility, _by_id),
    RecordFile("magnet_grades.yaml", "magnet_grades", MagnetGrade, _by_id),
    RecordFile("sectors.yaml", "sectors", Sector, _by_id),
    RecordFile("demand.yaml", "demand", SectorDemand,
               _fields("region", "sector", "element", "year")),
    RecordFile("trade.yaml", "trade", TradeCosts),
    RecordFile("prices.yaml", "reference_prices", ReferencePrice,
               _fields("element", "market", "year")),
    RecordFile("mine_production.yaml", "mine_production", MineProduction,
               _fields("country", "year", "vintage")),
    RecordFile("stage_shares.yaml", "stage_shares", StageShare,
               _fields("country", "stage", "year")),
    RecordFile("stockpiles.yaml", "stockpiles", Stockpile, _fields("region", "element")),
    RecordFile("scrap.yaml", "scrap", ScrapSupply, _fields("region", "element", "year", "kind")),
)

FILES_BY_NAME: dict[str, RecordFile] = {spec.name: spec for spec in RECORD_FILES}
