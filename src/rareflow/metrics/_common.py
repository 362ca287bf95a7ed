"""Selection and arithmetic helpers shared by the metric modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from rareflow.metrics.contract import STAGE_PRODUCT

#: A region id, or the member ids of a group of regions.
Members = str | Sequence[str]

#: ``None`` keeps the ``element`` dim; a name selects one element (dim dropped); a sequence of
#: names, or ``"total"`` for all elements, sums over them (dim dropped).
ElementSel = str | Sequence[str] | None

TOTAL = "total"


def members_list(members: Members) -> list[str]:
    """``members`` as a list of region ids (a single id becomes a list of one)."""
    if isinstance(members, str):
        return [members]
    result = list(members)
    if not result:
        raise ValueError("a group needs at least one region")
    return result


def product_of(stage: str) -> str:
    """Traded product carrying a stage's output (``mining``/``concentration`` → ``concentrate``)."""
    try:
        return STAGE_PRODUCT[stage]
    except KeyError:
        raise ValueError(
            f"stage {stage!r} has no traded product; use one of {sorted(STAGE_PRODUCT)}"
        ) from None


def select_element(da: xr.DataArray, element: ElementSel) -> xr.DataArray:
    """Apply the :data:`ElementSel` convention to an array with an ``element`` dim."""
    if element is None:
        return da
    if isinstance(element, str):
        if element == TOTAL:
            return da.sum("element")
        return da.sel(element=element, drop=True)
    return da.sel(element=list(element)).sum("element")


def sum_regions(da: xr.DataArray, members: Sequence[str], dim: str = "region") -> xr.DataArray:
    """Sum ``da`` over the ``members`` entries of ``dim`` (dim dropped)."""
    return da.sel({dim: list(members)}).sum(dim)


def outside(da: xr.DataArray, members: Sequence[str], dim: str) -> list[str]:
    """Labels of ``dim`` in ``da`` that are not among ``members``."""
    inside = set(members)
    return [str(label) for label in da[dim].values if str(label) not in inside]


#: Quantities (t) below this are solver noise, not material: a ratio over one is undefined.
NEGLIGIBLE_T = 1e-6


def ratio(numerator: xr.DataArray, denominator: xr.DataArray) -> xr.DataArray:
    """``numerator / denominator``, NaN where the denominator is zero or solver noise.

    A denominator within :data:`NEGLIGIBLE_T` of zero counts as zero, so a stock divided by a
    consumption of 1e-12 t reads "undefined", not 1e16 months.
    """
    return numerator / denominator.where(abs(denominator) > NEGLIGIBLE_T)


def with_units(da: xr.DataArray, units: str, name: str | None = None) -> xr.DataArray:
    """``da`` with ``attrs['units']`` set (and renamed when ``name`` is given)."""
    result = da.rename(name) if name is not None else da
    result.attrs = {"units": units}
    return result
