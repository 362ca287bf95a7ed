"""Policy instruments, one module each, and the discriminated union that selects them by type."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from rareflow.policy.instruments.base import InstrumentBase
from rareflow.policy.instruments.capacity_support import CapacitySupport
from rareflow.policy.instruments.demand_shock import DemandShock
from rareflow.policy.instruments.export_control import ExportControl
from rareflow.policy.instruments.fast_track import FastTrack
from rareflow.policy.instruments.offtake import Offtake
from rareflow.policy.instruments.price_floor import PriceFloor
from rareflow.policy.instruments.recycling_target import RecyclingTarget
from rareflow.policy.instruments.sourcing_cap import SourcingCap
from rareflow.policy.instruments.stockpile import ReleaseRule, Stockpile
from rareflow.policy.instruments.substitution import Substitution
from rareflow.policy.instruments.tariff import Tariff

#: Any instrument, selected by its ``type`` key.
Instrument = Annotated[
    ExportControl
    | Tariff
    | PriceFloor
    | Offtake
    | CapacitySupport
    | FastTrack
    | Stockpile
    | RecyclingTarget
    | SourcingCap
    | Substitution
    | DemandShock,
    Field(discriminator="type"),
]

#: Instrument classes by their ``type`` key.
INSTRUMENT_MODELS: dict[str, type[InstrumentBase]] = {
    "export_control": ExportControl,
    "tariff": Tariff,
    "price_floor": PriceFloor,
    "offtake": Offtake,
    "capacity_support": CapacitySupport,
    "fast_track": FastTrack,
    "stockpile": Stockpile,
    "recycling_target": RecyclingTarget,
    "sourcing_cap": SourcingCap,
    "substitution": Substitution,
    "demand_shock": DemandShock,
}
INSTRUMENT_TYPES: tuple[str, ...] = tuple(INSTRUMENT_MODELS)

__all__ = [
    "INSTRUMENT_MODELS",
    "INSTRUMENT_TYPES",
    "CapacitySupport",
    "DemandShock",
    "ExportControl",
    "FastTrack",
    "Instrument",
    "InstrumentBase",
    "Offtake",
    "PriceFloor",
    "RecyclingTarget",
    "ReleaseRule",
    "SourcingCap",
    "Stockpile",
    "Substitution",
    "Tariff",
]
