"""Writing a result dataset as a NetCDF4 file that other tools read cleanly.

``rareflow run --out`` writes through :func:`write_netcdf`: NetCDF4 (HDF5, engine ``h5netcdf``),
every data variable zlib-compressed, and CF-style attributes: ``units`` and ``long_name`` of each
variable from the result contract, ``long_name`` of each coordinate, and on the dataset
``Conventions``, ``title``, ``source``, ``history`` and (for a stored run) ``run_id``. The
result dataset itself and the run store are unchanged; only the file gets the extra attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import xarray as xr

from rareflow.model.results_contract import COORDINATES, VARIABLES

#: The CF conventions version the file's attributes follow.
CONVENTIONS: Final[str] = "CF-1.8"

#: The xarray engine that writes the file.
ENGINE: Final = "h5netcdf"

#: zlib level of every data variable (4: most of the gain, little of the time).
COMPRESSION_LEVEL: Final[int] = 4


def global_attrs(ds: xr.Dataset, run_id: str | None = None,
                 now: datetime | None = None) -> dict[str, str]:
    """CF global attributes for a result: ``Conventions``, ``title``, ``source``, ``history``.

    ``source`` names the rareflow version and the world data version the result carries;
    ``history`` one line saying when rareflow wrote the file and from which run; ``run_id``
    is added when the result is a stored run.
    """
    scenario = str(ds.attrs.get("scenario", "?"))
    code = str(ds.attrs.get("code_version", "?"))
    data = str(ds.attrs.get("data_version", "?"))
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = f" (run {run_id})" if run_id else ""
    attrs = {
        "Conventions": CONVENTIONS,
        "title": f"rareflow result of scenario {scenario}",
        "source": f"rareflow {code}; world data {data}",
        "history": f"{stamp}: rareflow {code} wrote scenario {scenario}{run}",
    }
    if run_id:
        attrs["run_id"] = run_id
    return attrs


def cf_dataset(ds: xr.Dataset, run_id: str | None = None) -> xr.Dataset:
    """A shallow copy of ``ds`` with CF-style attributes; ``ds`` itself is left as it is.

    Each contract variable gets :meth:`~rareflow.model.results_contract.ResultVariable.cf_attrs`
    added to its own attributes (those already there win, so ``units`` stay exactly as
    written), each contract coordinate a ``long_name``; the dataset gets
    :func:`global_attrs` (its own attributes, such as ``scenario``, are kept).
    """
    out = ds.copy(deep=False)
    for name in out.data_vars:
        variable = VARIABLES.get(str(name))
        if variable is not None:
            out[name].attrs = {**variable.cf_attrs(), **ds[name].attrs}
    for name in out.coords:
        coordinate = COORDINATES.get(str(name))
        if coordinate is not None:
            out[name].attrs = {"long_name": coordinate.values.replace("`", ""), **ds[name].attrs}
    out.attrs = {**ds.attrs, **global_attrs(ds, run_id)}
    return out


def encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Compression (zlib, with shuffle) for every numeric data variable of ``ds``."""
    return {
        str(name): {"zlib": True, "complevel": COMPRESSION_LEVEL, "shuffle": True}
        for name, array in ds.data_vars.items()
        if array.dtype.kind in "biuf"
    }


def write_netcdf(ds: xr.Dataset, path: str | Path, run_id: str | None = None) -> Path:
    """Write ``ds`` to ``path`` as compressed NetCDF4 with CF-style attributes.

    ``run_id``: the stored run the result is, recorded in the file's ``run_id`` and
    ``history`` attributes.
    """
    target = Path(path)
    cf = cf_dataset(ds, run_id)
    cf.to_netcdf(target, engine=ENGINE, encoding=encoding(cf))
    return target
