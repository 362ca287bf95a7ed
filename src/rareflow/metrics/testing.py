"""Build small, zero-filled result datasets that follow ``docs/results.md`` exactly.

For tests and examples: make an empty result for the coordinates you care about, then set the few
numbers your case needs::

    ds = empty_result(years=[2030], regions=["CHN", "USA"])
    ds["production"].loc[dict(year=2030, stage="separation", region="USA",
                              element="NdPr", origin="other")] = 10.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from rareflow.metrics.contract import RESULT_VARIABLES
from rareflow.model.elements import ELEMENTS, ORIGINS, STAGES

PRODUCTS: tuple[str, ...] = ("concentrate", "oxide", "metal", "magnet")
SECTORS: tuple[str, ...] = ("ev", "wind", "electronics", "industrial_motors", "defence", "other")


def empty_result(
    years: Sequence[int],
    regions: Sequence[str],
    *,
    elements: Sequence[str] = ELEMENTS,
    sectors: Sequence[str] = SECTORS,
    grades: Sequence[str] = ("n42",),
    facilities: Sequence[str] = (),
    instruments: Sequence[str] = (),
    draws: int | None = None,
    scenario: str = "test",
) -> xr.Dataset:
    """A result dataset with every contract variable, dims and units, filled with zeros.

    ``exporter`` and ``importer`` both take ``regions``. With ``draws`` set, every variable gets a
    leading ``draw`` dimension of that length, as an ensemble result does. Arrays are float64 and
    writable, so cases can be set with ``.loc``.
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
    }
    if draws is not None:
        coords["draw"] = list(range(draws))
    lead = ("draw",) if draws is not None else ()
    data_vars = {}
    for name, (dims, units) in RESULT_VARIABLES.items():
        full = lead + dims
        shape = tuple(len(coords[dim]) for dim in full)
        data_vars[name] = xr.DataArray(
            np.zeros(shape), dims=full, attrs={"units": units}
        )
    return xr.Dataset(
        data_vars,
        coords=coords,
        attrs={"scenario": scenario, "data_version": "test", "code_version": "test", "seed": 0},
    )


def put(ds: xr.Dataset, name: str, value: float, **where: Any) -> xr.Dataset:
    """Set ``ds[name]`` to ``value`` at the labels in ``where`` (in place; returns ``ds``).

    Dims not named in ``where`` are set over all their labels, so
    ``put(ds, "unmet", 5.0, region="USA", sector="defence")`` sets every year.
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
