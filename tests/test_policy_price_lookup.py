"""Price lookups of policies: arrays and label positions reused only while they are valid."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rareflow.policy.base import PricedRows, _price_grids, lookup_magnet_price, lookup_price


def _reference(regions: list[str], scale: float = 1.0) -> xr.Dataset:
    values = scale * np.arange(1, 2 * len(regions) * 2 + 1, dtype=float).reshape(
        1, len(regions), 2, 2)
    price = xr.DataArray(values, dims=("stage", "region", "element", "origin"),
                         coords={"stage": ["separation"], "region": regions,
                                 "element": ["Dy", "Tb"], "origin": ["china", "other"]})
    return xr.Dataset({"price": price})


def test_prices_follow_each_rows_labels_and_a_new_year_of_the_same_indexes() -> None:
    rows = PricedRows(pd.DataFrame({"region": ["USA", "CHN", "XXX"],
                                    "element": ["Tb", "Dy", "Dy"],
                                    "origin": ["other", "china", "other"]}))
    first = _reference(["CHN", "USA"])
    assert lookup_price(first, "separation", rows).tolist() == [8.0, 1.0, 6.0]  # XXX: best Dy
    # the next year's result shares the coordinate indexes but not the prices
    second = first.copy(data={"price": first["price"].to_numpy() * 10})
    assert second.indexes["region"] is first.indexes["region"]
    assert lookup_price(second, "separation", rows).tolist() == [80.0, 10.0, 60.0]


def test_other_indexes_or_another_table_are_looked_up_again() -> None:
    rows = PricedRows(pd.DataFrame({"region": ["USA"], "element": ["Dy"], "origin": ["china"]}))
    assert lookup_price(_reference(["CHN", "USA"]), "separation", rows).tolist() == [5.0]
    assert lookup_price(_reference(["USA", "CHN"]), "separation", rows).tolist() == [1.0]
    assert lookup_price(_reference(["CHN", "USA"]), "separation", rows).tolist() == [5.0]
    edited = rows.table.assign(region=["CHN"])
    assert lookup_price(_reference(["USA", "CHN"]), "separation", edited).tolist() == [5.0]


def test_magnet_prices_of_the_same_rows_use_their_own_positions() -> None:
    magnet = xr.DataArray([[10.0, 20.0], [30.0, 40.0]], dims=("grade", "region"),
                          coords={"grade": ["N42", "N52"], "region": ["USA", "CHN"]})
    reference = _reference(["CHN", "USA"]).assign(magnet_price=magnet)
    rows = PricedRows(pd.DataFrame({"region": ["CHN"], "element": ["Dy"], "origin": ["china"],
                                    "grade_id": ["N52"]}))
    for _ in range(2):
        assert lookup_price(reference, "separation", rows).tolist() == [1.0]
        assert lookup_magnet_price(reference, rows).tolist() == [40.0]


def test_a_replaced_price_variable_is_read_again() -> None:
    table = pd.DataFrame({"region": ["USA"], "element": ["Dy"], "origin": ["china"]})
    reference = _reference(["CHN", "USA"])
    assert lookup_price(reference, "separation", table).tolist() == [5.0]
    reference["price"] = reference["price"] * 3
    assert lookup_price(reference, "separation", table).tolist() == [15.0]


def test_a_years_price_is_its_first_year_and_a_missing_stage_is_an_error() -> None:
    table = pd.DataFrame({"region": ["USA"], "element": ["Tb"], "origin": ["other"]})
    reference = _reference(["CHN", "USA"]).expand_dims(year=[2030])
    assert lookup_price(reference, "separation", table).tolist() == [8.0]
    with pytest.raises(KeyError):
        lookup_price(reference, "metal", table)


def test_price_arrays_are_dropped_with_their_dataset() -> None:
    table = pd.DataFrame({"region": ["USA"], "element": ["Dy"], "origin": ["china"]})
    reference = _reference(["CHN", "USA"])
    lookup_price(reference, "separation", table)
    key = id(reference)
    assert key in _price_grids._grids
    del reference
    gc.collect()
    assert key not in _price_grids._grids
