"""The result-dataset contract of ``docs/results.md`` as data: variable → (dims, units).

Metrics read only what is declared here. :func:`missing_variables` lets a metric fail with a clear
message when a dataset lacks a variable, instead of a bare ``KeyError`` deep inside xarray.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import xarray as xr

#: Stage → traded product carrying that stage's output (``docs/results.md``, coord ``product``).
STAGE_PRODUCT: Final[dict[str, str]] = {
    "mining": "concentrate",
    "concentration": "concentrate",
    "separation": "oxide",
    "metal": "metal",
    "magnet": "magnet",
}

#: Stage whose product the strategic stockpiles hold (oxide). The contract does not say; see the
#: module docstring of :mod:`rareflow.metrics.reliance`.
STOCKPILE_STAGE: Final[str] = "separation"

#: Units shared by the demand-side variables: magnet sectors in t magnet, oxide sectors in t REO.
DEMAND_UNITS: Final[str] = "t (magnet t or t REO)"

#: Every data variable of a result dataset: name → (dims, units), in contract order.
RESULT_VARIABLES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "production": (("year", "stage", "region", "element", "origin"), "t REO"),
    "magnet_production": (("year", "region", "grade", "origin"), "t magnet"),
    "trade": (("year", "product", "exporter", "importer", "element", "origin"), "t REO"),
    "magnet_trade": (("year", "exporter", "importer", "grade"), "t magnet"),
    "facility_output": (("year", "facility"), "t/y"),
    "facility_capacity": (("year", "facility"), "t/y"),
    "demand": (("year", "region", "sector"), DEMAND_UNITS),
    "served": (("year", "region", "sector"), DEMAND_UNITS),
    "substituted": (("year", "region", "sector"), DEMAND_UNITS),
    "unmet": (("year", "region", "sector"), DEMAND_UNITS),
    "consumption": (("year", "stage", "region", "element"), "t REO"),
    "price": (("year", "stage", "region", "element", "origin"), "USD/kg"),
    "magnet_price": (("year", "region", "grade"), "USD/kg magnet"),
    "recycled": (("year", "region", "element"), "t REO"),
    "scrap_available": (("year", "region", "element"), "t REO"),
    "stockpile_level": (("year", "region", "element"), "t REO"),
    "stockpile_release": (("year", "region", "element"), "t REO"),
    "concentrate_stored": (("year", "region", "element"), "t REO"),
    "magnets_in_use": (("year", "region", "sector"), "t magnet"),
    "disposal": (("year", "region", "element"), "t REO"),
    "fiscal_cost": (("year", "instrument"), "USD million"),
    "surplus": (("year",), "USD million"),
}

#: Variables only some results carry (``magnets_in_use``: multi-year simulations only).
OPTIONAL_VARIABLES: Final[frozenset[str]] = frozenset({"magnets_in_use"})

#: Dataset-level attributes every result carries.
RESULT_ATTRS: Final[tuple[str, ...]] = ("scenario", "data_version", "code_version", "seed")


def missing_variables(ds: xr.Dataset, names: Iterable[str]) -> list[str]:
    """Names among ``names`` that ``ds`` lacks as data variables."""
    return [name for name in names if name not in ds.data_vars]


def require(ds: xr.Dataset, *names: str) -> None:
    """Raise ``KeyError`` naming every contract variable in ``names`` that ``ds`` lacks."""
    missing = missing_variables(ds, names)
    if missing:
        raise KeyError(
            f"result dataset lacks variable(s) {missing} (see docs/results.md); "
            f"it has {sorted(str(name) for name in ds.data_vars)}"
        )


def contract_problems(ds: xr.Dataset) -> list[str]:
    """Every way ``ds`` departs from the contract (missing variables, wrong dims or units).

    An ensemble's extra ``draw`` dimension is allowed on every variable; variables in
    :data:`OPTIONAL_VARIABLES` may be absent. Returns an empty list for a conforming dataset.
    """
    problems: list[str] = []
    for name, (dims, units) in RESULT_VARIABLES.items():
        if name not in ds.data_vars:
            if name not in OPTIONAL_VARIABLES:
                problems.append(f"missing variable {name!r}")
            continue
        actual = tuple(str(dim) for dim in ds[name].dims if dim != "draw")
        if actual != dims:
            problems.append(f"{name}: dims {actual}, expected {dims}")
        if ds[name].attrs.get("units") != units:
            problems.append(f"{name}: units {ds[name].attrs.get('units')!r}, expected {units!r}")
    problems.extend(f"missing dataset attr {a!r}" for a in RESULT_ATTRS if a not in ds.attrs)
    return problems
