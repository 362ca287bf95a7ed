"""The scenario language: scenario schema, one module per policy instrument, loader and library.

Typical use::

    from rareflow.scenario import load_scenario
    scenario = load_scenario("suspension-2025-11")          # bundled name or a path
    for control in scenario.policies_of(ExportControl):
        control.active_fraction(2026)
"""

from rareflow.scenario.distributions import (
    Bernoulli,
    Discrete,
    Distribution,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from rareflow.scenario.instruments import (
    INSTRUMENT_MODELS,
    INSTRUMENT_TYPES,
    CapacitySupport,
    DemandShock,
    ExportControl,
    FastTrack,
    Instrument,
    InstrumentBase,
    Offtake,
    PriceFloor,
    RecyclingTarget,
    ReleaseRule,
    SourcingCap,
    Stockpile,
    Substitution,
    Tariff,
    TradeHalt,
)
from rareflow.scenario.library import bundled_names, bundled_path, library_dir
from rareflow.scenario.loader import bundled_names_of, load_scenario
from rareflow.scenario.overrides import FacilityOverride, Overrides
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.uncertainty import (
    FacilityDistributions,
    GrowthUncertainty,
    PolicyTiming,
    RecyclingUncertainty,
    Uncertainty,
)
from rareflow.scenario.world_check import validate_against_world

__all__ = [
    "INSTRUMENT_MODELS",
    "INSTRUMENT_TYPES",
    "Bernoulli",
    "CapacitySupport",
    "DemandShock",
    "Discrete",
    "Distribution",
    "ExportControl",
    "FacilityDistributions",
    "FacilityOverride",
    "FastTrack",
    "GrowthUncertainty",
    "Instrument",
    "InstrumentBase",
    "LogNormal",
    "Normal",
    "Offtake",
    "Overrides",
    "PolicyTiming",
    "PriceFloor",
    "RecyclingTarget",
    "RecyclingUncertainty",
    "ReleaseRule",
    "Scenario",
    "SourcingCap",
    "Stockpile",
    "Substitution",
    "Tariff",
    "TradeHalt",
    "Triangular",
    "Uncertainty",
    "Uniform",
    "bundled_names",
    "bundled_names_of",
    "bundled_path",
    "library_dir",
    "load_scenario",
    "validate_against_world",
]
