"""Layout version 2: float variables are stored without their zero rows, and read back exactly.

Also: version 1 (dense) stores written before still read, runs mixing both, corrupt files.
"""

from __future__ import annotations

import copy
import math
import tempfile
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import rareflow.store.store as store_module
from rareflow.store import CorruptStoreError, RunStore, StoreError, files
from rareflow.store.codec import EncodedDataset, encode_dataset, layout_from_text
from rareflow.store.staging import stage_encoded
from store_strategies import sizes_and_coords

# -- helpers ------------------------------------------------------------------------------------


def assert_bitwise(actual: xr.Dataset, expected: xr.Dataset) -> None:
    """Identical Datasets, dtypes, dims and attrs, and floats equal bit for bit (-0.0, NaN)."""
    xr.testing.assert_identical(actual, expected)
    assert list(actual.data_vars) == list(expected.data_vars)
    assert actual.attrs == expected.attrs
    for name, var in expected.variables.items():
        assert actual[name].dtype == var.dtype, name
        assert actual[name].dims == var.dims, name
        if var.dtype.kind == "f":
            assert actual[name].values.tobytes() == var.values.tobytes(), name


def kept_cells(values: np.ndarray[Any, Any]) -> int:
    """Cells a sparse variable stores: all but +0.0."""
    return int(np.count_nonzero((values != 0) | np.signbit(values)))


def dense_v1_table(ds: xr.Dataset, name: str) -> pa.Table:
    """The table the store wrote for a variable before version 2: every cell, C order."""
    var = ds[name]
    shape = var.shape
    columns: dict[str, pa.Array] = {}
    for axis, dim in enumerate(var.dims):
        inner, outer = math.prod(shape[axis + 1 :]), math.prod(shape[:axis])
        codes = np.tile(np.repeat(np.arange(shape[axis], dtype=np.int32), inner), outer)
        if dim in ds.indexes:
            labels = pa.array(np.asarray(ds[dim].values))
            columns[str(dim)] = pa.DictionaryArray.from_arrays(pa.array(codes), labels)
        else:
            columns[str(dim)] = pa.array(codes.astype(np.int64))
    columns["value"] = pa.array(np.asarray(var.values).reshape(-1))
    return pa.table(columns)


def encode_v1(ds: xr.Dataset) -> EncodedDataset:
    """``ds`` encoded as a version 1 layout (no ``rows``) with dense tables."""
    encoded = encode_dataset(ds)
    layout = copy.deepcopy(encoded.layout)
    layout["version"] = 1
    for spec in layout["data_vars"].values():
        del spec["rows"]
    tables = {str(name): dense_v1_table(ds, str(name)) for name in ds.data_vars}
    return EncodedDataset(layout=layout, attrs=encoded.attrs, tables=tables)


def write_v1(store: RunStore, run_id: str, draw: int, ds: xr.Dataset) -> None:
    """Write a draw as a store from before layout version 2 did."""
    staged = stage_encoded(store.staging_dir, run_id, draw, encode_v1(ds), durable=False)
    store.commit_staged(run_id, [staged])


def tidy(ds: xr.Dataset, name: str, draw: int) -> pd.DataFrame:
    """Every cell of one variable of one draw, built independently with xarray."""
    var = ds[name]
    if var.ndim:
        frame = var.to_dataframe(name="value").reset_index()
    else:
        frame = pd.DataFrame({"value": var.values.reshape(1)})
    frame.insert(0, "draw", draw)
    return frame


def assert_tidy(frame: pd.DataFrame, draws: dict[int, xr.Dataset], name: str) -> None:
    """``frame`` (from load_variable) holds every cell of ``draws`` in draw, then C order."""
    expected = pd.concat([tidy(ds, name, d) for d, ds in sorted(draws.items())],
                         ignore_index=True)
    assert list(frame.columns) == list(expected.columns)
    assert len(frame) == len(expected)
    assert frame["draw"].tolist() == expected["draw"].tolist()
    for dim in draws[min(draws)][name].dims:
        assert frame[dim].tolist() == expected[dim].tolist(), dim
    assert_same_values(frame["value"].to_numpy(), expected["value"].to_numpy())


def assert_same_values(actual: np.ndarray[Any, Any], expected: np.ndarray[Any, Any]) -> None:
    """Equal arrays of one dtype; floats bit for bit (tells -0.0 from 0.0, NaN's sign)."""
    assert actual.dtype == expected.dtype
    if expected.dtype.kind == "f":
        assert actual.tobytes() == expected.tobytes()
    else:
        assert actual.tolist() == expected.tolist()


def sparse_dataset(seed: int, *, zero_share: float = 0.9) -> xr.Dataset:
    """Floats with mostly zeros, some -0.0 and NaN; ints, bools, strings; a dim without coords."""
    rng = np.random.default_rng(seed)
    years = np.array([2024, 2025, 2026], dtype=np.int32)
    regions = ["CHN", "USA", "AUS", "MYS"]
    elements = ["NdPr", "Dy", "Tb"]
    trade = rng.uniform(-5, 50, (3, 4, 4, 3))
    trade[rng.random(trade.shape) < zero_share] = 0.0
    trade[0, 0, 1, 0] = -0.0
    trade[1, 2, 3, 2] = np.nan
    trade[2, 3, 3, 2] = -np.nan
    ds = xr.Dataset(
        {
            "trade": (("year", "exporter", "importer", "element"), trade, {"units": "t"}),
            "share": (("year", "slot"),
                      np.where(rng.random((3, 2)) < 0.5, 0.0, 0.25).astype(np.float32)),
            "count": (("year", "region"), rng.integers(0, 2, (3, 4))),
            "flag": (("region",), np.array([True, False, False, True])),
            "label": (("region",), np.array(["a", "", "0", "b"], dtype=object)),
            "total": ((), float(rng.choice([0.0, -0.0, 1.0]))),
        },
        coords={"year": years, "exporter": regions, "importer": regions, "region": regions,
                "element": elements},
        attrs={"seed": int(seed)},
    )
    return ds


def new_run(store: RunStore, n_draws: int) -> str:
    return store.create_run("ensemble", "b", "t", "d", "c", 1, n_draws).run_id


# -- format -------------------------------------------------------------------------------------


def test_float_variables_are_stored_without_zero_rows(tmp_path: Path) -> None:
    ds = sparse_dataset(0)
    encoded = encode_dataset(ds)
    assert encoded.layout["version"] == 2
    rows = {name: spec["rows"] for name, spec in encoded.layout["data_vars"].items()}
    assert rows == {"trade": "nonzero", "share": "nonzero", "count": "all", "flag": "all",
                    "label": "all", "total": "nonzero"}
    for name in ("trade", "share", "total"):
        assert encoded.tables[name].num_rows == kept_cells(ds[name].values), name
    assert encoded.tables["trade"].num_rows < ds["trade"].size // 4
    for name in ("count", "flag", "label"):
        assert encoded.tables[name].num_rows == ds[name].size, name
    # what is written is what was encoded
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 1)
    store.write_draw(run_id, 0, ds)
    stored = pq.read_table(files.variable_file(tmp_path, run_id, 0, "trade"))
    assert stored.num_rows == kept_cells(ds["trade"].values)
    assert not ((stored.column("value").to_numpy() == 0)
                & ~np.signbit(stored.column("value").to_numpy())).any()


def test_sparse_round_trip_is_bit_exact(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 3)
    draws = {0: sparse_dataset(0), 1: sparse_dataset(1, zero_share=1.0),
             2: sparse_dataset(2, zero_share=0.0)}
    store.write_draws(run_id, draws)
    for draw, ds in draws.items():
        assert_bitwise(store.load_result(run_id, draw), ds)
    # -0.0 and NaN with its sign come back as such, absent rows as +0.0
    loaded = store.load_result(run_id, 0)["trade"].values
    assert np.signbit(loaded[0, 0, 1, 0]) and loaded[0, 0, 1, 0] == 0
    assert np.isnan(loaded[1, 2, 3, 2]) and not np.signbit(loaded[1, 2, 3, 2])
    assert np.isnan(loaded[2, 3, 3, 2]) and np.signbit(loaded[2, 3, 3, 2])


def test_draws_of_one_shape_share_one_layout(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 3)
    store.write_draws(run_id, {0: sparse_dataset(0), 1: sparse_dataset(1, zero_share=1.0),
                               2: sparse_dataset(2, zero_share=0.0)})
    ids = store.query("SELECT DISTINCT layout_id FROM draws WHERE run_id = ?", [run_id])
    assert len(ids) == 1
    assert encode_dataset(sparse_dataset(5)).layout_id == ids["layout_id"].iloc[0]


def test_layout_versions_read_and_rejected() -> None:
    assert layout_from_text('{"version": 1}') == {"version": 1}
    assert layout_from_text('{"version": 2}') == {"version": 2}
    for text in ('{"version": 3}', '{"version": true}', '{"version": "2"}', "[2]"):
        with pytest.raises(CorruptStoreError, match="version"):
            layout_from_text(text)


def test_query_sees_only_the_stored_rows(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 2)
    draws = {0: sparse_dataset(0), 1: sparse_dataset(1)}
    store.write_draws(run_id, draws)
    out = store.query("SELECT draw, count(*) AS n, sum(value) FILTER (WHERE NOT isnan(value)) "
                      "AS total FROM result(?, 'trade') GROUP BY draw ORDER BY draw", [run_id])
    for draw, ds in draws.items():
        values = ds["trade"].values
        assert out["n"].iloc[draw] == kept_cells(values)
        assert out["total"].iloc[draw] == pytest.approx(np.nansum(values))


# -- load_variable ------------------------------------------------------------------------------


def test_load_variable_restores_zero_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 5)
    draws = {d: sparse_dataset(d, zero_share=[0.9, 1.0, 0.0, 0.5][d % 4]) for d in (0, 1, 2, 4)}
    store.write_draws(run_id, draws)

    def no_xarray(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_variable must not rebuild draws as xarray Datasets")

    monkeypatch.setattr(store_module, "decode_dataset", no_xarray)
    for name in ("trade", "share", "total", "count", "flag"):
        frame = store.load_variable(run_id, name)
        assert_tidy(frame, draws, name)
    assert_tidy(store.load_variable(run_id, "trade", draws=[4, 1]), {1: draws[1], 4: draws[4]},
                "trade")


def test_load_variable_matches_a_dense_store_exactly(tmp_path: Path) -> None:
    """Same frame, dtypes included, as from the same draws stored the old, dense way."""
    sparse, dense = RunStore(tmp_path / "v2", durable=False), RunStore(tmp_path / "v1",
                                                                       durable=False)
    sparse_id, dense_id = new_run(sparse, 3), new_run(dense, 3)
    for draw in range(3):
        ds = sparse_dataset(draw)
        sparse.write_draw(sparse_id, draw, ds)
        write_v1(dense, dense_id, draw, ds)
    for name in sparse_dataset(0).data_vars:
        got, expected = sparse.load_variable(sparse_id, name), dense.load_variable(dense_id, name)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert [repr(t) for t in got.dtypes] == [repr(t) for t in expected.dtypes], name
    assert sparse.load_variable(sparse_id, "trade")["year"].dtype == np.int32


# -- version 1 stores and mixed runs ------------------------------------------------------------


def test_version_1_store_still_reads(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 2)
    draws = {0: sparse_dataset(0), 1: sparse_dataset(1)}
    for draw, ds in draws.items():
        write_v1(store, run_id, draw, ds)
    stored = pq.read_table(files.variable_file(tmp_path, run_id, 0, "trade"))
    assert stored.num_rows == draws[0]["trade"].size  # really the old, dense format
    for draw, ds in draws.items():
        assert_bitwise(store.load_result(run_id, draw), ds)
    assert_tidy(store.load_variable(run_id, "trade"), draws, "trade")
    assert store.get_run(run_id).variables == tuple(draws[0].data_vars)


def test_run_mixing_dense_and_sparse_draws_reads(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 4)
    draws = {d: sparse_dataset(d) for d in range(4)}
    write_v1(store, run_id, 0, draws[0])
    store.write_draws(run_id, {1: draws[1], 2: draws[2]})
    write_v1(store, run_id, 3, draws[3])
    for name in ("trade", "count", "total"):
        assert_tidy(store.load_variable(run_id, name), draws, name)
    assert_bitwise(store.load_result(run_id, 3), draws[3])


def test_run_with_differing_coordinates_per_draw_reads(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 3)
    draws = {0: sparse_dataset(0), 1: sparse_dataset(1).isel(year=[2, 0]),
             2: sparse_dataset(2).isel(exporter=[1])}
    store.write_draws(run_id, draws)
    assert_tidy(store.load_variable(run_id, "trade"), draws, "trade")


def test_variable_with_other_dims_in_another_draw_is_a_clear_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 2)
    store.write_draw(run_id, 0, sparse_dataset(0))
    store.write_draw(run_id, 1, sparse_dataset(1).transpose("importer", ...))
    with pytest.raises(StoreError, match="has dims"):
        store.load_variable(run_id, "trade")


# -- corrupt files ------------------------------------------------------------------------------


def _corrupt(store: RunStore, run_id: str, name: str, edit: Any) -> None:
    path = files.variable_file(store.root, run_id, 0, name)
    table = edit(pq.read_table(path))
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("trade", lambda t: pa.concat_tables([t, t.slice(3, 1)]), "several rows"),
        ("trade", lambda t: pa.concat_tables([t.slice(0, 1), t]), "several rows"),
        ("total", lambda t: pa.concat_tables([t, t]), "more than"),
        ("share", lambda t: pa.concat_tables([t] * 7), "more than"),
        ("count", lambda t: t.slice(1), "expected"),
        ("trade", lambda t: t.set_column(1, "exporter", pa.array(["XXX"] * t.num_rows)),
         "not in its coordinates"),
        ("share", lambda t: t.set_column(1, "slot", pa.array([5] * t.num_rows, pa.int64())),
         "not in its coordinates"),
    ],
)
def test_corrupt_files_are_rejected(tmp_path: Path, name: str, edit: Any, message: str) -> None:
    store = RunStore(tmp_path, durable=False)
    run_id = new_run(store, 1)
    ds = sparse_dataset(0, zero_share=0.5)
    ds["share"].values[:] = [[0.25, 0.0], [0.0, 0.5], [0.0, 0.0]]
    ds["total"].values = np.float64(1.0)
    store.write_draw(run_id, 0, ds)
    _corrupt(store, run_id, name, edit)
    with pytest.raises(CorruptStoreError, match=message):
        store.load_result(run_id, 0)
    with pytest.raises(CorruptStoreError):
        store.load_variable(run_id, name)


# -- property test: arbitrary small datasets with many zeros ------------------------------------

_FLOAT = st.one_of(
    st.sampled_from([0.0, 0.0, 0.0, 0.0, -0.0, math.nan, -math.nan, 5e-324, -1.5, math.inf]),
    st.floats(width=32),
)
_DTYPES = ["float64", "float64", "float32", "int64", "bool", "object"]


@st.composite
def values(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray[Any, Any]:
    n = math.prod(shape)
    if dtype.startswith("float"):
        floats = draw(st.lists(_FLOAT, min_size=n, max_size=n))
        return np.array(floats, dtype=np.float64).astype(dtype).reshape(shape)
    if dtype == "object":
        texts = draw(st.lists(st.sampled_from(["", "a", "0"]), min_size=n, max_size=n))
        return np.array(texts, dtype=object).reshape(shape)
    ints = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return np.array(ints, dtype=dtype).reshape(shape)


@st.composite
def ensembles(draw: st.DrawFn) -> list[xr.Dataset]:
    """Two or three draws of one shape (same dims, dtypes and coords), different values."""
    sizes, coords = draw(sizes_and_coords())
    specs = []
    for _ in range(draw(st.integers(1, 3))):
        dims = tuple(draw(st.permutations(list(sizes))))[: draw(st.integers(0, len(sizes)))]
        specs.append((dims, draw(st.sampled_from(_DTYPES))))
    out = []
    for seed in range(draw(st.integers(2, 3))):
        data_vars = {
            f"v{i}": (dims, draw(values(tuple(sizes[d] for d in dims), dtype)), {"units": "t"})
            for i, (dims, dtype) in enumerate(specs)
        }
        out.append(xr.Dataset(data_vars, coords=coords, attrs={"seed": seed}))
    return out


def test_arbitrary_sparse_datasets_round_trip_and_load_as_dense() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sparse = RunStore(Path(tmp) / "v2", durable=False)
        dense = RunStore(Path(tmp) / "v1", durable=False)
        sparse_id, dense_id = new_run(sparse, 1000), new_run(dense, 1000)
        numbers = count()

        @given(ensembles())
        def check(datasets: list[xr.Dataset]) -> None:
            draws = {next(numbers): ds for ds in datasets}
            sparse.write_draws(sparse_id, draws)
            for draw, ds in draws.items():
                write_v1(dense, dense_id, draw, ds)
                assert_bitwise(sparse.load_result(sparse_id, draw), ds)
                assert_bitwise(dense.load_result(dense_id, draw), ds)
            for name in datasets[0].data_vars:
                got = sparse.load_variable(sparse_id, str(name), draws=list(draws))
                expected = dense.load_variable(dense_id, str(name), draws=list(draws))
                pd.testing.assert_frame_equal(got, expected, check_exact=True)
                assert_same_values(got["value"].to_numpy(), expected["value"].to_numpy())

        check()
