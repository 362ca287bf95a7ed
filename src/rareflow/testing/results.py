"""Result datasets for tests and examples, shaped by the result contract (``docs/results.md``).

One factory, :func:`empty_result`, builds a dataset with every contract variable (dims and units
from :data:`rareflow.model.results_contract.RESULT_VARIABLES`) over the coordinates you name, filled
with zeros. Set the few numbers a case needs with :func:`put` and :func:`ship`::

    ds = empty_result(years=[2030], regions=["CHN", "USA"])
    ds["production"].loc[dict(year=2030, stage="separation", region="USA",
                              element="NdPr", origin="other")] = 10.0

:func:`synthetic_result` is that same dataset filled with random numbers, deterministic per
``seed``, for tests (the run store's) that need every ensemble draw to differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import xarray as xr

from rareflow.model.elements import ELEMENTS, ORIGINS, STAGES
from rareflow.model.results_contract import FISCAL_COMPONENTS, PRODUCTS, RESULT_VARIABLES

#: Sector ids of the bundled world (``data/sectors.yaml``): sectors are data, not a vocabulary of
#: the model, so these are only the default ``sector`` coordinate of a test result.
SECTORS: Final[tuple[str, ...]] = (
    "ev", "wind", "electronics", "industrial_motors", "defence", "other",
)
#: Variables over (year, region, sector) that obey
#: ``demand = served + substituted + demand_response + shortfall``.
_SECTOR_BALANCE: Final[tuple[str, ...]] = (
    "demand", "served", "substituted", "demand_response", "shortfall",
)


def empty_result(
    years: Sequence[int],
    regions: Sequence[str],
    *,
    elements: Sequence[str] = ELEMENTS,
    sectors: Sequence[str] = SECTORS,
    grades: Sequence[str] = ("n42",),
    facilities: Sequence[str] = (),
    instruments: Sequence[str] = (),
    instrument_types: Sequence[str] | None = None,
    draws: int | None = None,
    scenario: str = "test",
) -> xr.Dataset:
    """A result dataset with every contract variable, dims and units, filled with zeros.

    ``exporter`` and ``importer`` both take ``regions``. With ``draws`` set, every variable gets a
    leading ``draw`` dimension of that length, as an ensemble result does. Arrays are float64 and
    writable, so cases can be set with ``.loc``. ``instrument_types`` gives each instrument's
    type (coordinate ``instrument_type``; ``"test"`` for all by default).
    """
    coords: dict[str, list[Any]] = {
        "year": [int(year) for year in years],
        "region": list(regions),
        "element": list(elements),
        "origin": list(ORIGINS),
        "stage": list(STAGES),
        "product": list(PRODUCTS),
        "exporter": list(regions),
        "importer": list(regions),
        "sector": list(sectors),
        "grade": list(grades),
        "facility": list(facilities),
        "instrument": list(instruments),
        "component": list(FISCAL_COMPONENTS),
    }
    if draws is not None:
        coords["draw"] = list(range(draws))
    lead = ("draw",) if draws is not None else ()
    data_vars = {}
    for variable in RESULT_VARIABLES:
        full = lead + variable.dims
        shape = tuple(len(coords[dim]) for dim in full)
        data_vars[variable.name] = xr.DataArray(
            np.zeros(shape), dims=full, attrs=variable.attrs()
        )
    types = ["test"] * len(instruments) if instrument_types is None else list(instrument_types)
    if len(types) != len(instruments):
        raise ValueError(f"{len(types)} instrument types for {len(instruments)} instruments")
    return xr.Dataset(
        data_vars,
        coords={**coords, "instrument_type": ("instrument", types)},
        attrs={"scenario": scenario, "data_version": "test", "code_version": "test", "seed": 0},
    )


def synthetic_result(
    seed: int = 0,
    *,
    years: Sequence[int] = (2024, 2025, 2026),
    regions: Sequence[str] = ("CHN", "USA", "AUS", "MYS", "ROW"),
    facilities: Sequence[str] = ("mountain_pass", "lynas_malaysia", "ten_x"),
    scenario: str = "baseline",
) -> xr.Dataset:
    """:func:`empty_result` filled with random numbers, the same for the same ``seed``.

    Every variable is uniform in [0, 1000) except the sector balance: ``served``,
    ``substituted``, ``demand_response`` and ``shortfall`` add up to a positive ``demand``, with
    ``shortfall >= 0`` and ``demand_response`` sometimes negative (prices below the reference).
    Attributes are those of a run (``seed`` is ``seed``), with one instrument,
    ``price_floor_ndpr``.
    """
    rng = np.random.default_rng(seed)
    ds = empty_result(years, regions, facilities=facilities, instruments=["price_floor_ndpr"],
                      instrument_types=["price_floor"], scenario=scenario)
    for variable in RESULT_VARIABLES:
        name = variable.name
        if name not in _SECTOR_BALANCE:
            ds[name].values[...] = rng.uniform(0, 1000, ds[name].shape)
    demand = rng.uniform(10, 100, ds["demand"].shape)
    served = demand * rng.uniform(0.5, 1.0, demand.shape)
    substituted = (demand - served) * rng.uniform(0, 0.5, demand.shape)
    rest = demand - served - substituted
    response = rest * rng.uniform(-0.25, 1.0, demand.shape)
    ds["demand"].values[...] = demand
    ds["served"].values[...] = served
    ds["substituted"].values[...] = substituted
    ds["demand_response"].values[...] = response
    ds["shortfall"].values[...] = rest - response
    ds.attrs.update(data_version="world-2025.11", code_version="0.1.0", seed=int(seed))
    return ds


def put(ds: xr.Dataset, name: str, value: float, **where: Any) -> xr.Dataset:
    """Set ``ds[name]`` to ``value`` at the labels in ``where`` (in place; returns ``ds``).

    Dims not named in ``where`` are set over all their labels, so
    ``put(ds, "shortfall", 5.0, region="USA", sector="defence")`` sets every year.
    """
    ds[name].loc[where] = value
    return ds


def ship(
    ds: xr.Dataset,
    product: str,
    exporter: str,
    importer: str,
    tonnes: float,
    *,
    element: str = "NdPr",
    origin: str = "other",
    **where: Any,
) -> xr.Dataset:
    """Record a ``trade`` shipment (in place; returns ``ds``), every year unless ``year=`` given."""
    return put(
        ds,
        "trade",
        tonnes,
        product=product,
        exporter=exporter,
        importer=importer,
        element=element,
        origin=origin,
        **where,
    )
