"""Round trips of result Datasets through the run store: exact variables, dims, dtypes, attrs."""

from __future__ import annotations

import tempfile
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from rareflow.store import RunStore, UnsupportedDatasetError
from rareflow.testing import synthetic_result
from store_strategies import sizes_and_coords


def assert_exact(actual: xr.Dataset, expected: xr.Dataset) -> None:
    """Identical values, names, attrs -- and the same dtypes, which assert_identical ignores."""
    xr.testing.assert_identical(actual, expected)
    assert list(actual.data_vars) == list(expected.data_vars)
    for name, var in expected.variables.items():
        assert actual[name].dtype == var.dtype, name
        assert actual[name].dims == var.dims, name
    assert actual.attrs == expected.attrs
    for key, value in expected.attrs.items():
        assert type(actual.attrs[key]) is type(value), key


def make_store(root: Path) -> RunStore:
    return RunStore(root, durable=False)


def new_run(store: RunStore, kind: str = "single", n_draws: int = 1) -> str:
    run = store.create_run(kind, "baseline", "name: baseline\n", "data-1", "code-1", 7, n_draws,
                           {})
    return run.run_id


def test_single_run_round_trip_is_exact(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store)
    ds = synthetic_result(3)
    store.write_draw(run_id, 0, ds)
    loaded = store.load_result(run_id)
    assert_exact(loaded, ds)
    assert loaded["year"].dtype == np.int64
    assert loaded["production"].attrs["units"] == "t REO"
    assert "draw" not in loaded.dims
    assert_exact(store.load_result(run_id, draw=0), ds)


def test_year_dtype_and_label_order_are_kept(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store)
    ds = synthetic_result(1, years=[2030, 2024], regions=["USA", "CHN", "AUS"])
    ds = ds.assign_coords(year=ds["year"].astype(np.int32))
    store.write_draw(run_id, 0, ds)
    loaded = store.load_result(run_id)
    assert loaded["year"].dtype == np.int32
    assert list(loaded["year"].values) == [2030, 2024]
    assert list(loaded["region"].values) == ["USA", "CHN", "AUS"]
    assert_exact(loaded, ds)


def test_ensemble_round_trip_adds_draw_dim(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store, "ensemble", 4)
    draws = {d: synthetic_result(100 + d) for d in range(4)}
    for draw, ds in draws.items():
        store.write_draw(run_id, draw, ds)
    for draw, ds in draws.items():
        assert_exact(store.load_result(run_id, draw), ds)
    combined = store.load_result(run_id)
    assert combined.sizes["draw"] == 4
    assert combined["draw"].dtype == np.int64
    assert combined["production"].dims[0] == "draw"
    for draw, ds in draws.items():
        xr.testing.assert_identical(
            combined.sel(draw=draw, drop=True).drop_attrs(deep=False), ds.drop_attrs(deep=False)
        )
    # per-draw attrs differ in "seed": conflicting attrs are dropped, shared ones kept
    assert combined.attrs == {"scenario": "baseline", "data_version": "world-2025.11",
                              "code_version": "0.1.0"}


def test_ensemble_load_skips_failed_draws(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store, "ensemble", 3)
    store.write_draw(run_id, 0, synthetic_result(0))
    store.record_failure(run_id, 1, "boom")
    store.write_draw(run_id, 2, synthetic_result(2))
    assert list(store.load_result(run_id)["draw"].values) == [0, 2]


def test_batch_write_round_trip(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store, "ensemble", 6)
    store.write_draws(run_id, {d: synthetic_result(d) for d in (1, 3, 5)})
    assert store.completed_draws(run_id) == {1, 3, 5}
    assert_exact(store.load_result(run_id, 3), synthetic_result(3))


def test_features_beyond_the_contract_round_trip(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store)
    ds = xr.Dataset(
        {
            "flag": (("region",), np.array([True, False])),
            "count": (("region", "slot"), np.arange(6, dtype=np.int16).reshape(2, 3)),
            "share": (("region",), np.array([0.5, np.nan], dtype=np.float32)),
            "total": ((), 12.5, {"units": "USD million"}),
            "when": (("region",), np.array(["2025-10-09", "2026-11-10"], dtype="datetime64[ns]")),
        },
        coords={
            "region": ("region", np.array(["CHN", "USA"], dtype=object), {"long": "region id"}),
            "region_name": ("region", ["China", "United States"]),
            "scenario_year": 2026,
        },
        attrs={
            "seed": np.int64(12345678901),
            "weights": np.array([0.25, 0.75]),
            "tags": ("a", "b"),
            "nested": {"k": [1, 2.5, None]},
            "ok": True,
            "nan": float("nan"),
        },
    )
    store.write_draw(run_id, 0, ds)
    loaded = store.load_result(run_id)
    assert loaded["region"].dtype == object
    assert loaded["share"].dtype == np.float32
    assert loaded["when"].dtype == np.dtype("datetime64[ns]")
    assert "slot" not in loaded.coords  # a dimension without coordinate stays without
    assert loaded["region"].attrs == {"long": "region id"}
    assert loaded.attrs["seed"] == np.int64(12345678901)
    assert isinstance(loaded.attrs["seed"], np.int64)
    np.testing.assert_array_equal(loaded.attrs["weights"], ds.attrs["weights"])
    assert loaded.attrs["tags"] == ("a", "b")
    assert loaded.attrs["nested"] == {"k": [1, 2.5, None]}
    assert np.isnan(loaded.attrs["nan"])
    xr.testing.assert_identical(loaded.drop_attrs(deep=False), ds.drop_attrs(deep=False))
    for name in ds.variables:
        assert loaded[name].dtype == ds[name].dtype, name


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (xr.Dataset({"x": (("draw",), [1.0])}), "reserved"),
        (xr.Dataset({"x": (("value",), [1.0])}), "reserved"),
        (xr.Dataset({"a/b": (("r",), [1.0])}), "variable name"),
        (xr.Dataset({"x": (("r",), [1.0, 2.0])}, coords={"r": ["A", "A"]}), "duplicate"),
        (xr.Dataset({"x": (("r",), [1.0])}, attrs={"when": object()}), "attrs"),
        (xr.Dataset({"x": (("r",), np.array([1 + 2j]))}), "cannot be stored"),
        (xr.Dataset({"x": (("r",), [1.0])}, coords={"r": ["\x000"]}), "NUL"),
    ],
)
def test_unstorable_datasets_are_rejected_before_writing(
    tmp_path: Path, dataset: xr.Dataset, message: str
) -> None:
    store = make_store(tmp_path)
    run_id = new_run(store)
    with pytest.raises(UnsupportedDatasetError, match=message):
        store.write_draw(run_id, 0, dataset)
    assert store.completed_draws(run_id) == set()
    assert not (tmp_path / "results" / run_id).exists()


# -- property test: arbitrary small datasets --------------------------------------------------

@st.composite
def datasets(draw: st.DrawFn) -> xr.Dataset:
    sizes, coords = draw(sizes_and_coords())
    names = list(sizes)
    data_vars: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 3))):
        dims = tuple(draw(st.permutations(names)))[: draw(st.integers(0, len(names)))]
        shape = tuple(sizes[d] for d in dims)
        dtype = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
        element = st.floats(-1e6, 1e6, width=32)
        if dtype.startswith("float"):
            element = st.one_of(element, st.just(float("nan")))
        n = int(np.prod(shape))
        values = draw(st.lists(element, min_size=n, max_size=n))
        array = np.array(values, dtype=np.float64).reshape(shape).astype(dtype)
        data_vars[f"v{i}"] = (dims, array, {"units": draw(st.sampled_from(["t", "USD/kg"]))})
    attrs = draw(st.dictionaries(st.sampled_from(["scenario", "seed", "note"]),
                                 st.one_of(st.integers(0, 2**62), st.text(max_size=5))))
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def test_arbitrary_small_datasets_round_trip() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = make_store(Path(tmp))
        run_id = new_run(store, "ensemble", 1000)
        draw_numbers = count()

        @given(datasets())
        def check(ds: xr.Dataset) -> None:
            draw = next(draw_numbers)
            store.write_draw(run_id, draw, ds)
            assert_exact(store.load_result(run_id, draw), ds)

        check()
