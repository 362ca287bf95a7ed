"""Concatenate one-year result datasets along ``year``: ``xr.concat`` with a numpy fast path.

``simulate`` ends by joining its per-year datasets. ``xr.concat`` aligns every coordinate and
variable of every year, a cost paid again for every ensemble draw. The simulator's years share one
layout — same variables, dims, dtypes and coordinates but ``year`` — so then the arrays are stacked
with numpy and the dataset assembled once from already validated parts (as
:mod:`rareflow.engine.results` assembles each year's); anything else goes to ``xr.concat``
unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import Index, PandasIndex

DIM = "year"


def concat_years(results: Sequence[xr.Dataset],
                 extra: Mapping[Hashable, xr.Variable] | None = None) -> xr.Dataset:
    """``xr.concat(results, dim="year", data_vars="all", join="outer")``, faster when it can.

    ``extra`` variables (over the joined dataset's dimensions, ``year`` included) are then added
    as data variables, as ``dataset[name] = variable`` would add them one after the other.
    """
    extra = dict(extra or {})
    if _same_layout(results):
        stacked = _stack(results, extra)
        if stacked is not None:
            return stacked
    joined = xr.concat(list(results), dim=DIM, data_vars="all", join="outer")
    for name, variable in extra.items():
        joined[name] = variable
    return joined


def _same_layout(results: Sequence[xr.Dataset]) -> bool:
    """Whether concatenating ``results`` is stacking their arrays.

    True when every dataset has one year and the first one's variables, dims, dtypes and
    coordinates (bar ``year``, which no other coordinate may depend on).
    """
    if not results:
        return False
    first = results[0]
    names, coords = list(first.data_vars), list(first.coords)
    first_variables = first.variables
    if DIM not in first.xindexes or any(DIM in first_variables[c].dims
                                        for c in coords if c != DIM):
        return False
    layout = {name: (first_variables[name].dims, first_variables[name].dtype) for name in names}
    if any(dims[:1] != (DIM,) for dims, _ in layout.values()):
        return False
    for dataset in results:
        variables = dataset.variables
        if list(dataset.data_vars) != names or list(dataset.coords) != coords \
                or variables[DIM].shape != (1,):
            return False
        if any((variables[n].dims, variables[n].dtype) != layout[n] for n in names):
            return False
        if dataset is not first and not all(
                _equal(variables[c], first_variables[c]) for c in coords if c != DIM):
            return False
    return True


def _equal(one: xr.Variable, other: xr.Variable) -> bool:
    """Same dims and values (the same object, as coordinates shared between years, is quick)."""
    return one is other or bool(one.equals(other))  # type: ignore[no-untyped-call]


def _stack(results: Sequence[xr.Dataset],
           extra: dict[Hashable, xr.Variable]) -> xr.Dataset | None:
    """The datasets (of one layout, see :func:`_same_layout`) stacked along ``year``.

    None when an ``extra`` variable does not fit the stacked dimensions.
    """
    first = results[0]
    names = list(first.data_vars)
    columns: dict[Hashable, list[np.ndarray]] = {name: [] for name in [DIM, *names]}
    for dataset in results:
        variables = dataset.variables
        for name, arrays in columns.items():
            arrays.append(variables[name].values)  # the numpy data itself, unlike to_numpy()
    stacked = {name: np.concatenate(arrays) for name, arrays in columns.items()}
    data_vars = {
        name: xr.Variable(first.variables[name].dims, stacked[name],
                          dict(first.variables[name].attrs))
        for name in names
    }
    year = xr.Variable((DIM,), stacked[DIM], first.variables[DIM].attrs)
    if _construct_direct is None:  # an xarray without the internal constructor
        return _public_stack(first, year, data_vars, extra)
    return _direct_stack(first, year, data_vars, extra)


def _public_stack(first: xr.Dataset, year: xr.Variable, data_vars: dict[Hashable, xr.Variable],
                  extra: dict[Hashable, xr.Variable]) -> xr.Dataset:
    """The stacked dataset built with xarray's public constructor (the reference)."""
    coords: dict[Hashable, xr.Variable] = {}
    for name in first.coords:
        coords[name] = year if name == DIM else first.variables[name].copy(deep=False)
    dataset = xr.Dataset(data_vars, coords=coords, attrs=dict(first.attrs))
    for name, variable in extra.items():
        dataset[name] = variable
    return dataset


def _direct_stack(first: xr.Dataset, year: xr.Variable, data_vars: dict[Hashable, xr.Variable],
                  extra: dict[Hashable, xr.Variable]) -> xr.Dataset | None:
    """The stacked dataset assembled from already valid parts, as xarray's own operations do.

    The public constructor re-merges and re-aligns the eleven indexed coordinates of the
    results, and again for each variable added after. The coordinates
    other than ``year`` are the first year's, already validated (shallow copies of their
    variables, their indexes shared, as xarray's selections share them); only the ``year``
    index is new. The order of variables and dimensions is the public constructor's: data
    variables, then coordinates, then ``extra``. Tests check the result is identical.
    """
    year_index = PandasIndex(pd.Index(year.values, name=DIM), DIM)
    variables: dict[Hashable, xr.Variable] = dict(data_vars)
    indexes: dict[Hashable, Index] = {}
    first_indexes = first.xindexes
    for name in first.coords:
        if name == DIM:
            variables[name] = year_index.create_variables({DIM: year})[DIM]
            indexes[name] = year_index
        else:
            variables[name] = first.variables[name].copy(deep=False)
            if name in first_indexes:
                indexes[name] = first_indexes[name]
    dims: dict[Hashable, int] = {}
    for variable in variables.values():
        for dim, size in zip(variable.dims, variable.shape, strict=True):
            dims.setdefault(dim, size)
    for name, variable in extra.items():
        if name in variables or any(dims.get(dim) != size
                                    for dim, size in zip(variable.dims, variable.shape,
                                                         strict=True)):
            return None
        variables[name] = variable
    assert _construct_direct is not None
    stacked: xr.Dataset = _construct_direct(
        variables=variables, coord_names=set(first.coords), dims=dims, indexes=indexes,
        attrs=dict(first.attrs),
    )
    return stacked


#: ``xr.Dataset._construct_direct``: how xarray builds datasets from already validated variables
#: and indexes (internal; see :mod:`rareflow.engine.results`).
_construct_direct = getattr(xr.Dataset, "_construct_direct", None)
