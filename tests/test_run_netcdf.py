"""``rareflow run --out`` writes compressed NetCDF4 with CF attributes that other tools read."""

from __future__ import annotations

from pathlib import Path

import h5netcdf
import netCDF4
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.model.results_contract import COORDINATES, VARIABLES
from rareflow.runs.netcdf import CONVENTIONS, cf_dataset, write_netcdf
from rareflow.store import RunStore


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, xr.Dataset, str]:
    """A short controls run written with ``--out``, the same run as the store keeps it, its id."""
    root = tmp_path_factory.mktemp("netcdf")
    out = root / "october.nc"
    result = CliRunner().invoke(main, ["run", "controls-2025-october", "--years", "2024-2025",
                                       "--store", str(root / "runs"), "--out", str(out),
                                       "--json"])
    assert result.exit_code == 0, result.output
    store = RunStore(root / "runs")
    (info,) = store.list_runs()
    return out, store.load_result(info.run_id), info.run_id


def test_plain_xarray_reads_values_coords_and_cf_attributes(written):
    out, stored, run_id = written
    with xr.open_dataset(out) as saved:
        assert saved.attrs["Conventions"] == CONVENTIONS == "CF-1.8"
        assert saved.attrs["scenario"] == "controls-2025-october"
        assert saved.attrs["run_id"] == run_id
        assert saved.attrs["title"] == "rareflow result of scenario controls-2025-october"
        assert stored.attrs["data_version"] in saved.attrs["source"]
        assert stored.attrs["code_version"] in saved.attrs["source"]
        assert f"(run {run_id})" in saved.attrs["history"]
        assert "controls-2025-october" in saved.attrs["history"]
        for name in ("year", "region", "stage", "element", "origin", "instrument_type"):
            assert saved[name].attrs["long_name"] == COORDINATES[name].values.replace("`", "")
        assert set(saved.data_vars) == set(stored.data_vars)
        for name in stored.variables:
            assert saved[name].dims == stored[name].dims, name
            np.testing.assert_array_equal(saved[name].values, stored[name].values)
        for name in stored.data_vars:
            variable = VARIABLES[str(name)]
            assert saved[name].attrs["units"] == stored[name].attrs["units"] == variable.units
            assert saved[name].attrs["long_name"] == variable.description
            assert saved[name].encoding["zlib"] is True, name
        assert list(saved["instrument_type"].values) == list(stored["instrument_type"].values)
        assert saved["region"].values.tolist() == stored["region"].values.tolist()


def test_netcdf4_library_reads_compressed_variables_and_cf_attributes(written):
    out, stored, run_id = written
    with netCDF4.Dataset(out, "r") as file:
        assert file.data_model == "NETCDF4"
        assert file.getncattr("Conventions") == "CF-1.8"
        assert file.getncattr("run_id") == run_id
        assert {"title", "source", "history"} <= set(file.ncattrs())
        for name in stored.data_vars:
            variable = file.variables[str(name)]
            filters = variable.filters()
            assert filters["zlib"] and filters["shuffle"] and filters["complevel"] == 4, name
            assert variable.getncattr("units") == VARIABLES[str(name)].units
            assert variable.getncattr("long_name") == VARIABLES[str(name)].description
            values = variable[:]
            np.testing.assert_array_equal(np.ma.filled(values, np.nan), stored[name].values)
        assert file.variables["year"][:].tolist() == stored["year"].values.tolist()


def test_compression_makes_the_file_smaller_than_netcdf3(written, tmp_path):
    out, stored, _ = written
    classic = tmp_path / "classic.nc"
    stored.to_netcdf(classic, engine="scipy")  # what --out wrote before: NetCDF3, uncompressed
    assert out.stat().st_size * 3 < classic.stat().st_size  # 2 years; 17 years: 13 times
    again = write_netcdf(stored, tmp_path / "again.nc")
    with xr.open_dataset(again) as reread:
        assert "run_id" not in reread.attrs  # a result that is not a stored run has no id
        assert "(run " not in reread.attrs["history"]


def test_netcdf4_file_is_compressed_with_cf_attributes(written):
    out, stored, _ = written
    assert out.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # NetCDF4 = HDF5, not classic NetCDF3
    with h5netcdf.File(out, "r") as file:
        assert file.attrs["Conventions"] == "CF-1.8"
        for name in stored.data_vars:
            variable = file.variables[str(name)]
            assert variable.compression == "gzip", name
            assert variable.shuffle, name
            assert variable.attrs["units"] == VARIABLES[str(name)].units
            assert variable.attrs["long_name"] == VARIABLES[str(name)].description
        stages = [v.decode() if isinstance(v, bytes) else str(v)
                  for v in file.variables["stage"][:]]
        assert stages == list(stored["stage"].values)


def test_the_result_itself_keeps_only_its_units(written):
    _, stored, _ = written
    cf = cf_dataset(stored)
    assert "Conventions" not in stored.attrs and "Conventions" in cf.attrs
    for name in stored.data_vars:
        assert set(stored[name].attrs) == {"units"}
        assert cf[name].attrs["units"] == stored[name].attrs["units"]
