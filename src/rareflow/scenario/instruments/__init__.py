"""Policy instruments, one module each, and the discriminated union that selects them by type."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.instruments.capacity_support import CapacitySupport
from rareflow.scenario.instruments.demand_shock import DemandShock
from rareflow.scenario.instruments.export_control import ExportControl
from rareflow.scenario.instruments.fast_track import FastTrack
from rareflow.scenario.instruments.offtake import Offtake
from rareflow.scenario.instruments.price_floor import PriceFloor
from rareflow.scenario.instruments.recycling_target import RecyclingTarget
from rareflow.scenario.instruments.sourcing_cap import SourcingCap
from rareflow.scenario.instruments.stockpile import ReleaseRule, Stockpile
from rareflow.scenario.instruments.substitution import Substitution
from rareflow.scenario.instruments.tariff import Tariff
from rareflow.scenario.instruments.trade_halt import TradeHalt

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
    | DemandShock
    | TradeHalt,
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
    "trade_halt": TradeHalt,
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
    "TradeHalt",
]
