"""The fast (precomputed-index) ``to_dataset`` and ``set_year`` equal their pandas references."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from hypothesis_budget import SIMULATION, scaled
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import MarketModel
from rareflow.engine.results import to_dataset
from rareflow.testing import random_world, tiny_world
from reference_results import reference_to_dataset, reference_year_vectors


def _assert_same_dataset(fast: xr.Dataset, reference: xr.Dataset) -> None:
    """Same variables, dims, coords (order and dtype), attrs; values equal to rounding."""
    assert list(fast.data_vars) == list(reference.data_vars)
    assert list(fast.coords) == list(reference.coords)
    for name in fast.variables:
        assert fast[name].dims == reference[name].dims, name
        assert fast[name].dtype == reference[name].dtype, name
        assert fast[name].attrs == reference[name].attrs, name
    for name, index in fast.indexes.items():
        assert index.equals(reference.indexes[name]), name
        assert index.dtype == reference.indexes[name].dtype, name
    assert fast.attrs == reference.attrs
    # NaN (no price) must sit in the same cells; numbers may differ by summation order only.
    xr.testing.assert_allclose(fast, reference, rtol=1e-9, atol=1e-9)


def _perturbed_inputs(world, year: int, seed: int):
    """Year inputs with scaled capacities and some scrap, so that many paths carry flow."""
    rng = np.random.default_rng(seed)
    inputs = default_inputs(world, year)
    capacity = inputs.capacity * rng.uniform(0.3, 1.5, len(inputs.capacity))
    scrap = inputs.stock[["region", "element", "origin"]].assign(
        t=rng.uniform(0, 50, len(inputs.stock)))
    return replace(inputs, capacity=capacity, scrap=scrap)


@scaled(SIMULATION)
@given(
    seed=st.integers(0, 10_000),
    n_regions=st.integers(2, 7),
    n_deposits=st.integers(1, 5),
    per_stage=st.integers(1, 4),
    individual=st.booleans(),
)
def test_fast_results_equal_reference_in_random_worlds(seed, n_regions, n_deposits, per_stage,
                                                       individual):
    # the world tracks either the default element groups or all 17 rare earths one by one
    world = random_world(seed, n_regions, n_deposits, per_stage, individual=individual)
    model = MarketModel(world)
    for year in (2024, 2031):
        inputs = _perturbed_inputs(world, year, seed)
        model.set_year(inputs)
        _assert_same_vectors(model, inputs)
        solution = model.solve()
        _assert_same_dataset(to_dataset(model, solution, year),
                             reference_to_dataset(model, solution, year))


def _assert_same_vectors(model: MarketModel, inputs) -> None:
    # Inventory targets sum element contents in another order than pandas' groupby, so bounds
    # agree to the last bits only (relative 1e-13); everything else is equal bit for bit.
    for got, want in zip(
        (model.col_lower, model.col_upper, model.col_cost, model.row_lower, model.row_upper),
        reference_year_vectors(model, inputs),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0.0)


def test_fast_results_equal_reference_on_tiny_world_over_years():
    world = tiny_world()
    model = MarketModel(world)
    for year in range(2024, 2041, 4):
        inputs = default_inputs(world, year)
        model.set_year(inputs)
        _assert_same_vectors(model, inputs)
        solution = model.solve()
        _assert_same_dataset(to_dataset(model, solution, year),
                             reference_to_dataset(model, solution, year))


def test_standing_tariffs_reach_the_shipping_costs():
    world = tiny_world()
    world = world.model_copy(update={"trade": world.trade.model_copy(update={
        "tariffs_usd_per_kg": {"CHN>USA:magnet": 2.5, "AUS>CHN:concentrate": 1.0},
        "tariffs_from_year": {"CHN>USA:magnet": 2026},
    })})
    model = MarketModel(world)
    for year in (2024, 2026):
        inputs = default_inputs(world, year)
        model.set_year(inputs)
        _assert_same_vectors(model, inputs)
    ship = model.network.col("magnet_ship")
    chn_usa = ship.ids[((ship.keys.exporter == "CHN") & (ship.keys.importer == "USA")).to_numpy()]
    assert chn_usa.size > 0
    np.testing.assert_allclose(model.col_cost[chn_usa] - model._static_cost[chn_usa], 2.5)


def test_duplicate_year_input_keys_are_rejected():
    world = tiny_world()
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)
    doubled = replace(inputs, magnet_demand=inputs.magnet_demand.iloc[[0, 0]])
    with pytest.raises(ValueError, match="duplicate"):
        model.set_year(doubled)
