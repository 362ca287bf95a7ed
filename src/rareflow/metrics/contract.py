"""Check result datasets against the result contract (:mod:`rareflow.model.results_contract`).

The contract itself (every variable, coordinate and attribute, also rendered as
``docs/results.md``) is declared once in the model layer; this module keeps the views of it that
metrics use (:data:`RESULT_VARIABLES`, :data:`DEMAND_UNITS`) and what only metrics need
(:data:`STAGE_PRODUCT`, :data:`STOCKPILE_STAGE`). :func:`missing_variables` lets a metric fail
with a clear message when a dataset lacks a variable, instead of a bare ``KeyError`` deep inside
xarray.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
import xarray as xr

from rareflow.model import results_contract

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
DEMAND_UNITS: Final[str] = results_contract.DEMAND_UNITS

#: Every data variable of a result dataset: name → (dims, units), in contract order (a view of
#: :data:`rareflow.model.results_contract.RESULT_VARIABLES`).
RESULT_VARIABLES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    variable.name: (variable.dims, variable.units)
    for variable in results_contract.RESULT_VARIABLES
}

#: Dataset-level attributes every result carries.
RESULT_ATTRS: Final[tuple[str, ...]] = tuple(
    attribute.name for attribute in results_contract.RESULT_ATTRIBUTES if not attribute.optional)

#: dtype kinds of each kind of coordinate values (string labels are ``object`` once read back
#: from NetCDF).
_KINDS: Final[dict[str, str]] = {"int": "iu", "str": "UO"}


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
    """Every way ``ds`` departs from the contract of :mod:`rareflow.model.results_contract`.

    Checks each declared data variable (present unless optional; dims, units and dtype), each
    declared coordinate (present unless optional; dims and, unless empty, kind of values) and
    the required dataset attrs. An ensemble's extra ``draw`` dimension is allowed on every
    variable. Variables the contract does not declare (e.g. an ensemble draw's key series) are
    not checked. Returns an empty list for a conforming dataset.
    """
    problems: list[str] = []
    for variable in results_contract.RESULT_VARIABLES:
        name, dims, units = variable.name, variable.dims, variable.units
        if name not in ds.data_vars:
            if not variable.optional:
                problems.append(f"missing variable {name!r}")
            continue
        actual = tuple(str(dim) for dim in ds[name].dims if dim != "draw")
        if actual != dims:
            problems.append(f"{name}: dims {actual}, expected {dims}")
        if ds[name].attrs.get("units") != units:
            problems.append(f"{name}: units {ds[name].attrs.get('units')!r}, expected {units!r}")
        if ds[name].dtype != np.dtype(variable.dtype):
            problems.append(f"{name}: dtype {ds[name].dtype}, expected {variable.dtype}")
    for coordinate in results_contract.RESULT_COORDINATES:
        cname = coordinate.name
        if cname not in ds.coords:
            if not coordinate.optional:
                problems.append(f"missing coordinate {cname!r}")
            continue
        coord = ds.coords[cname]
        actual = tuple(str(dim) for dim in coord.dims)
        if actual != coordinate.dims:
            problems.append(f"coordinate {cname}: dims {actual}, expected {coordinate.dims}")
        if coord.size and coord.dtype.kind not in _KINDS[coordinate.kind]:
            problems.append(f"coordinate {cname}: dtype {coord.dtype}, expected "
                            f"{coordinate.kind} values")
    problems.extend(f"missing dataset attr {a!r}" for a in RESULT_ATTRS if a not in ds.attrs)
    return problems
