"""Writing a result dataset as a NetCDF4 file that other tools read cleanly.

``rareflow run --out`` writes through :func:`write_netcdf`: NetCDF4 (HDF5, engine ``h5netcdf``),
every data variable zlib-compressed, and CF-style attributes (``units`` and ``long_name`` of each
variable from the result contract, ``Conventions`` on the dataset). The result dataset itself
and the run store are unchanged; only the file gets the extra attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import xarray as xr

from rareflow.model.results_contract import VARIABLES

#: The CF conventions version the file's attributes follow.
CONVENTIONS: Final[str] = "CF-1.8"

#: The xarray engine that writes the file.
ENGINE: Final = "h5netcdf"

#: zlib level of every data variable (4: most of the gain, little of the time).
COMPRESSION_LEVEL: Final[int] = 4


def cf_dataset(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of ``ds`` with CF-style attributes; ``ds`` itself is left as it is.

    Each contract variable gets :meth:`~rareflow.model.results_contract.ResultVariable.cf_attrs`
    added to its own attributes (those already there win, so ``units`` stay exactly as
    written); the dataset gets ``Conventions``.
    """
    out = ds.copy(deep=False)
    for name in out.data_vars:
        variable = VARIABLES.get(str(name))
        if variable is not None:
            out[name].attrs = {**variable.cf_attrs(), **ds[name].attrs}
    out.attrs = {**ds.attrs, "Conventions": CONVENTIONS}
    return out


def encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Compression (zlib, with shuffle) for every numeric data variable of ``ds``."""
    return {
        str(name): {"zlib": True, "complevel": COMPRESSION_LEVEL, "shuffle": True}
        for name, array in ds.data_vars.items()
        if array.dtype.kind in "biuf"
    }


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` as compressed NetCDF4 with CF-style attributes."""
    target = Path(path)
    cf = cf_dataset(ds)
    cf.to_netcdf(target, engine=ENGINE, encoding=encoding(cf))
    return target
