"""The result contract as data: every variable, coordinate and attribute of a result dataset.

A result is the ``xarray.Dataset`` a simulation returns and the run store keeps. Each of its data
variables, coordinates and dataset attributes is declared here once, as a row of a table (as
PyPSA declares component attributes as data): the engine attaches each variable's ``units``
from it, :func:`rareflow.metrics.contract.contract_problems` checks datasets against it and
``docs/results.md`` is generated from it (:mod:`rareflow.model.results_doc`).

The rows describe what the code writes today. Units are the exact ``attrs["units"]`` strings of
the output; descriptions are for readers and are not written into the datasets (only into the
NetCDF files of ``rareflow run --out``, as CF ``long_name``: :meth:`ResultVariable.cf_attrs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

from rareflow.model.market import TradedProduct

#: Which part of the code writes a variable: every solved year (``engine.results``), a
#: multi-year simulation (``engine.simulate``), or the policy program of a scenario run.
WrittenBy = Literal["solve", "simulation", "policy"]

#: The kind of a coordinate's values: integers, or string labels.
LabelKind = Literal["int", "str"]

#: Traded products, the values of the ``product`` coordinate, in result order (the model's
#: :data:`~rareflow.model.market.TradedProduct`).
PRODUCTS: Final[tuple[str, ...]] = get_args(TradedProduct)

#: Parts of a policy's fiscal cost (USD million), the values of the ``component`` coordinate:
#: grants at face value, equity and loans at their expected cost, price-floor payments, offtake
#: net costs, and everything else (stockpile purchases, tariff revenue, ...). ``fiscal_cost`` is
#: their sum.
FISCAL_COMPONENTS: Final[tuple[str, ...]] = (
    "grant", "equity_expected_loss", "loan_interest_subsidy", "loan_expected_loss",
    "floor_payment", "offtake_net_cost", "other")

#: Units shared by the demand-side variables: magnet sectors in t magnet, oxide sectors in t REO.
DEMAND_UNITS: Final[str] = "t (magnet t or t REO)"

#: Units of a facility's output and capacity: t REO, or t magnet for magnet plants.
CAPACITY_UNITS: Final[str] = "t/y (capacity units)"


@dataclass(frozen=True)
class ResultCoordinate:
    """One coordinate of a result dataset: its name, dims, kind of values and meaning."""

    name: str
    dims: tuple[str, ...]
    kind: LabelKind
    values: str
    optional: bool = False


@dataclass(frozen=True)
class ResultVariable:
    """One data variable of a result dataset, as the engine or the policy program writes it."""

    name: str
    dims: tuple[str, ...]
    units: str
    description: str
    written_by: WrittenBy
    optional: bool = False
    dtype: str = "float64"

    @property
    def year_dims(self) -> tuple[str, ...]:
        """The dims after the leading ``year`` (those of one solved year's array)."""
        return self.dims[1:] if self.dims[:1] == ("year",) else self.dims

    def attrs(self) -> dict[str, str]:
        """The variable's ``attrs`` in a result dataset (a fresh dict)."""
        return {"units": self.units}

    def cf_attrs(self) -> dict[str, str]:
        """CF-style ``attrs`` for a file other tools read: ``units`` and ``long_name``.

        ``long_name`` is the contract's description; the in-memory result keeps :meth:`attrs`.
        """
        return {"units": self.units, "long_name": self.description}


@dataclass(frozen=True)
class ResultAttribute:
    """One dataset-level attribute of a result."""

    name: str
    description: str
    optional: bool = False


#: Every coordinate of a result, in the order of ``docs/results.md``.
RESULT_COORDINATES: Final[tuple[ResultCoordinate, ...]] = (
    ResultCoordinate("year", ("year",), "int", "calendar year"),
    ResultCoordinate("region", ("region",), "str", "region ids of the world (ISO-3, `ROW`)"),
    ResultCoordinate("element", ("element",), "str",
                     "the world's elements (bundled worlds: `NdPr Dy Tb Sm La Ce Y other_heavy`)"),
    ResultCoordinate("origin", ("origin",), "str",
                     "`china` (mined or separated in China), `other`"),
    ResultCoordinate("stage", ("stage",), "str",
                     "`mining concentration separation metal magnet recycling`"),
    ResultCoordinate("product", ("product",), "str",
                     f"traded products: `{' '.join(PRODUCTS)}`"),
    ResultCoordinate("exporter", ("exporter",), "str", "region ids"),
    ResultCoordinate("importer", ("importer",), "str", "region ids"),
    ResultCoordinate("sector", ("sector",), "str",
                     "sector ids (`ev wind electronics industrial_motors defence other`)"),
    ResultCoordinate("grade", ("grade",), "str", "magnet grade ids"),
    ResultCoordinate("facility", ("facility",), "str", "facility ids"),
    ResultCoordinate("instrument", ("instrument",), "str",
                     "policy ids of the scenario (written by the policy program)"),
    ResultCoordinate("instrument_type", ("instrument",), "str",
                     "each policy's instrument type, e.g. `export_control`, `price_floor` "
                     "(written by the policy program)"),
    ResultCoordinate("component", ("component",), "str",
                     f"parts of a policy's fiscal cost: `{' '.join(FISCAL_COMPONENTS)}` "
                     "(written by the policy program)"),
    ResultCoordinate("draw", ("draw",), "int",
                     "draw number (ensemble results read across draws only)", optional=True),
)

_REGION_ELEMENT = ("year", "region", "element")
_REGION_SECTOR = ("year", "region", "sector")

#: Every data variable of a result, in the order a scenario run's dataset holds them.
RESULT_VARIABLES: Final[tuple[ResultVariable, ...]] = (
    ResultVariable("production", ("year", "stage", "region", "element", "origin"), "t REO",
                   "output of each stage (magnet: REO contained in magnets made; recycling: "
                   "oxide recovered)", "solve"),
    ResultVariable("magnet_production", ("year", "region", "grade", "origin"), "t magnet",
                   "magnets made; origin `china` = may contain China-origin material, `other` "
                   "= clean of it", "solve"),
    ResultVariable("trade", ("year", "product", "exporter", "importer", "element", "origin"),
                   "t REO", "shipments (magnets as their REO content)", "solve"),
    ResultVariable("magnet_trade", ("year", "exporter", "importer", "grade"), "t magnet",
                   "magnet shipments", "solve"),
    ResultVariable("facility_output", ("year", "facility"), CAPACITY_UNITS,
                   "output of each facility in the year, in its capacity units (t REO, or t "
                   "magnet for magnet plants), so output / capacity = utilisation", "solve"),
    ResultVariable("facility_capacity", ("year", "facility"), CAPACITY_UNITS,
                   "capacity available that year (t REO, or t magnet for magnet plants)",
                   "solve"),
    ResultVariable("demand", _REGION_SECTOR, DEMAND_UNITS,
                   "demand at the reference price: the anchor of the demand curve (demand = "
                   "served + substituted + demand_response + shortfall)", "solve"),
    ResultVariable("served", _REGION_SECTOR, DEMAND_UNITS,
                   "demand met with rare-earth material", "solve"),
    ResultVariable("substituted", _REGION_SECTOR, DEMAND_UNITS,
                   "demand met by the sector's substitute technology", "solve"),
    ResultVariable("demand_response", _REGION_SECTOR, DEMAND_UNITS,
                   "demand given up because prices are above the reference (negative: extra "
                   "use at prices below it)", "solve"),
    ResultVariable("shortfall", _REGION_SECTOR, DEMAND_UNITS,
                   "demand not served even at the choke price (20 × the reference price), "
                   "e.g. because policy blocked all supply", "solve"),
    ResultVariable("consumption", ("year", "stage", "region", "element"), "t REO",
                   "material used in a region at the stage (input to the next stage / end use)",
                   "solve"),
    ResultVariable("price", ("year", "stage", "region", "element", "origin"), "USD/kg",
                   "dual of the balance of that product (stage `separation` = oxide, `metal` = "
                   "metal)", "solve"),
    ResultVariable("magnet_price", ("year", "region", "grade"), "USD/kg magnet",
                   "dual of the magnet balance", "solve"),
    ResultVariable("recycled", _REGION_ELEMENT, "t REO", "oxide recovered from scrap", "solve"),
    ResultVariable("scrap_available", _REGION_ELEMENT, "t REO", "scrap offered to recyclers",
                   "solve"),
    ResultVariable("stockpile_level", _REGION_ELEMENT, "t REO", "strategic stock at year end",
                   "solve"),
    ResultVariable("stockpile_release", _REGION_ELEMENT, "t REO",
                   "drawn from stock (negative = filled)", "solve"),
    ResultVariable("inventory_level", _REGION_ELEMENT, "t REO",
                   "buyers' and traders' stocks at year end", "solve"),
    ResultVariable("inventory_release", _REGION_ELEMENT, "t REO",
                   "drawn from buyers' and traders' stocks (negative = stocks built up)",
                   "solve"),
    ResultVariable("disposal", _REGION_ELEMENT, "t REO",
                   "surplus oxide left in tailings (no buyer at any price)", "solve"),
    ResultVariable("concentrate_stored", _REGION_ELEMENT, "t REO",
                   "concentrate kept unsold at the mine", "solve"),
    ResultVariable("mixed_heavy_production", _REGION_ELEMENT, "t REO",
                   "heavy rare earths (Sm, Eu, Gd, Dy, Tb, Y and the rest) that light separation "
                   "left unseparated in a mixed heavy concentrate (SEG+HRE), by the region that "
                   "made it", "solve"),
    ResultVariable("mixed_heavy_refined", _REGION_ELEMENT, "t REO",
                   "mixed heavy concentrate fed to heavy separation in the region (its output "
                   "is in `production` at stage `separation`)", "solve"),
    ResultVariable("mixed_heavy_disposal", _REGION_ELEMENT, "t REO",
                   "mixed heavy concentrate left in the residue (no refiner took it)", "solve"),
    ResultVariable("off_grade_refined", _REGION_ELEMENT, "t REO",
                   "off-grade oxide (separated at < 99 % purity) refined to the ≥ 99 % grade that "
                   "metal and magnet makers need", "solve"),
    ResultVariable("surplus", ("year",), "USD million", "LP objective (total surplus)", "solve"),
    ResultVariable("magnets_in_use", _REGION_SECTOR, "t magnet",
                   "stock of magnets in use at year end (multi-year simulations only)",
                   "simulation", optional=True),
    ResultVariable("fiscal_cost", ("year", "instrument"), "USD million",
                   "government cost of each policy: price floors, offtakes, support (negative: "
                   "revenue, e.g. of a tariff)", "policy"),
    ResultVariable("fiscal_cost_component", ("year", "instrument", "component"), "USD million",
                   "fiscal_cost split into its parts: grants at face value, equity and loans at "
                   "expected cost (expected loss, interest subsidy), price-floor payments, "
                   "offtake net costs, other (sums to fiscal_cost)", "policy"),
    ResultVariable("floor_destination", ("year", "instrument", "region"),
                   "t REO (t magnet for magnet floors)",
                   "where a price floor's covered volume goes: the producer region's exports "
                   "of the floored element by importer, pro rata, and the rest at home; 0 for "
                   "other policies", "policy"),
    ResultVariable("policy_shortfall", ("year", "instrument"), "t REO",
                   "how far a policy fell short of its constraint (recycling targets, sourcing "
                   "caps); 0 for other policies", "policy"),
)

#: Every dataset-level attribute of a result.
RESULT_ATTRIBUTES: Final[tuple[ResultAttribute, ...]] = (
    ResultAttribute("scenario", "scenario name"),
    ResultAttribute("data_version", "name and version of the world data"),
    ResultAttribute("code_version", "rareflow version that computed it"),
    ResultAttribute("seed", "random seed (0 for a deterministic run)"),
    ResultAttribute("skipped_policies", "policies left out of the run, with reasons "
                    "(`; `-separated, empty if none)", optional=True),
    ResultAttribute("draw", "draw number (ensemble draws only)", optional=True),
    ResultAttribute("draw_values", "the draw's sampled values as JSON (ensemble draws only)",
                    optional=True),
)

#: The variables by name.
VARIABLES: Final[Mapping[str, ResultVariable]] = MappingProxyType(
    {variable.name: variable for variable in RESULT_VARIABLES})

#: The coordinates by name.
COORDINATES: Final[Mapping[str, ResultCoordinate]] = MappingProxyType(
    {coordinate.name: coordinate for coordinate in RESULT_COORDINATES})


def written_by(part: WrittenBy) -> tuple[ResultVariable, ...]:
    """The variables that ``part`` of the code writes, in dataset order."""
    return tuple(variable for variable in RESULT_VARIABLES if variable.written_by == part)
