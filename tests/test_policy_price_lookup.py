"""Price lookups of policies: labels found in the result's indexes, reused only when valid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.policy.base import lookup_price


def _reference(regions: list[str], scale: float = 1.0) -> xr.Dataset:
    values = scale * np.arange(1, 2 * len(regions) * 2 + 1, dtype=float).reshape(
        1, len(regions), 2, 2)
    price = xr.DataArray(values, dims=("stage", "region", "element", "origin"),
                         coords={"stage": ["separation"], "region": regions,
                                 "element": ["Dy", "Tb"], "origin": ["china", "other"]})
    return xr.Dataset({"price": price})


def test_prices_follow_each_rows_labels_and_a_new_year_of_the_same_indexes() -> None:
    table = pd.DataFrame({"region": ["USA", "CHN", "XXX"], "element": ["Tb", "Dy", "Dy"],
                          "origin": ["other", "china", "other"]})
    first = _reference(["CHN", "USA"])
    assert lookup_price(first, "separation", table).tolist() == [8.0, 1.0, 6.0]  # XXX: best Dy
    # the next year's result shares the coordinate indexes but not the prices
    second = first.copy(data={"price": first["price"].to_numpy() * 10})
    assert second.indexes["region"] is first.indexes["region"]
    assert lookup_price(second, "separation", table).tolist() == [80.0, 10.0, 60.0]


def test_other_indexes_or_another_table_are_looked_up_again() -> None:
    table = pd.DataFrame({"region": ["USA"], "element": ["Dy"], "origin": ["china"]})
    assert lookup_price(_reference(["CHN", "USA"]), "separation", table).tolist() == [5.0]
    assert lookup_price(_reference(["USA", "CHN"]), "separation", table).tolist() == [1.0]
    edited = table.assign(region=["CHN"])
    assert lookup_price(_reference(["USA", "CHN"]), "separation", edited).tolist() == [5.0]
