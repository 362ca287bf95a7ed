"""The yearly market LP: conservation, capacities, warm starts, cross-solver check, errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import swiglpk as glpk
from hypothesis import given
from hypothesis import strategies as st

from conservation import assert_balances_close
from hypothesis_budget import SIMULATION, scaled
from rareflow.engine.diagnostics import InfeasibleYearError
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.results import to_dataset
from rareflow.testing import random_world, tiny_world


def _solve(world, year=2024):
    model = MarketModel(world)
    model.set_year(default_inputs(world, year))
    solution = model.solve()
    return model, solution, to_dataset(model, solution, year)


def _assert_conserved(ds):
    assert_balances_close(ds)
    scale = max(1.0, float(ds.production.max()))
    over = ds.facility_output - ds.facility_capacity
    assert float(over.max()) <= 1e-6 * scale, "a facility exceeds its capacity"


@scaled(SIMULATION)
@given(
    seed=st.integers(0, 10_000),
    n_regions=st.integers(2, 7),
    n_deposits=st.integers(1, 5),
    per_stage=st.integers(1, 4),
    individual=st.booleans(),
)
def test_mass_balance_closes_in_random_worlds(seed, n_regions, n_deposits, per_stage, individual):
    # the world tracks either the default element groups or all 17 rare earths one by one
    world = random_world(seed, n_regions, n_deposits, per_stage, individual=individual)
    _, _, ds = _solve(world)
    _assert_conserved(ds)


def test_tiny_world_is_conserved_and_prices_are_positive():
    _, _, ds = _solve(tiny_world())
    _assert_conserved(ds)
    oxide = ds.price.sel(stage="separation", year=2024).max("origin")
    assert float(oxide.sel(region="CHN", element="NdPr")) > 0
    assert float(oxide.sel(region="CHN", element="Dy")) > float(
        oxide.sel(region="CHN", element="NdPr"))


def test_a_shortfall_is_an_outcome_not_an_infeasibility():
    world = tiny_world()
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)
    model.set_year(replace(inputs.with_capacity(inputs.capacity * 0.0),
                           stock=inputs.stock.assign(level=0.0),
                           inventory=np.zeros(model.network.col("inventory_sell").size)))
    ds = to_dataset(model, model.solve(), 2024)
    assert float(ds.served.sum()) == pytest.approx(0.0, abs=1e-6)
    # with no supply at all, what would pay the choke price is a shortfall, the rest of the
    # reference demand is priced out (demand response) or substituted
    parts = ds.substituted + ds.demand_response + ds.shortfall
    np.testing.assert_allclose(parts.values, ds.demand.values, atol=1e-6)
    assert float(ds.shortfall.sel(sector="defence").sum()) > 0
    assert float(ds.shortfall.sum()) < float(ds.demand.sum())


def test_warm_start_matches_cold_solve_over_years():
    world = tiny_world()
    warm = MarketModel(world)
    for year in range(2024, 2036, 3):
        inputs = default_inputs(world, year)
        inputs = inputs.with_capacity(inputs.capacity * (1.0 + 0.1 * (year - 2024) / 3))
        warm.set_year(inputs)
        warm_objective = warm.solve(warm=True).objective
        cold = MarketModel(world)
        cold.set_year(inputs)
        cold_objective = cold.solve(warm=False).objective
        assert warm_objective == pytest.approx(cold_objective, rel=1e-7)


def test_objective_confirmed_by_glpk_through_mps(tmp_path: Path):
    """An independent solver (GLPK) reads the year's LP from MPS and finds the same optimum."""
    world = tiny_world()
    model = MarketModel(world)
    model.set_year(default_inputs(world, 2026))
    objective = model.solve().objective
    path = tmp_path / "year.mps"
    model.highs.writeModel(str(path))
    problem = glpk.glp_create_prob()
    assert glpk.glp_read_mps(problem, glpk.GLP_MPS_FILE, None, str(path)) == 0
    params = glpk.glp_smcp()
    glpk.glp_init_smcp(params)
    params.msg_lev = glpk.GLP_MSG_OFF
    params.presolve = glpk.GLP_ON
    assert glpk.glp_simplex(problem, params) == 0
    assert glpk.glp_get_status(problem) == glpk.GLP_OPT
    assert glpk.glp_get_obj_val(problem) == pytest.approx(objective, rel=1e-6)
    glpk.glp_delete_prob(problem)


def test_infeasible_year_names_conflicting_constraints_in_domain_terms():
    world = tiny_world()
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)
    # Force Japan to add 10 million t of Dy to its stockpile: impossible.
    stock = inputs.stock.assign(fill_min=1e7, fill_max=1e7)
    model.set_year(replace(inputs, stock=stock))
    with pytest.raises(InfeasibleYearError) as info:
        model.solve()
    text = str(info.value)
    assert "market year 2024 is infeasible" in text
    assert "region=JPN" in text and "element=Dy" in text
    assert "stock_fill" in text or "oxide_balance" in text


def test_dual_prices_bracketed_by_marginal_surplus_of_supply():
    """A price lies between the surplus lost with one tonne less and gained with one more.

    (At a degenerate optimum the dual is any value between the two one-sided derivatives.)
    """
    world = tiny_world()
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)

    def objective(extra_dy: float) -> float:
        stock = inputs.stock.assign(level=inputs.stock.level + extra_dy, release_price=0.0)
        model.set_year(replace(inputs, stock=stock))
        return model.solve().objective

    model.set_year(replace(inputs, stock=inputs.stock.assign(release_price=0.0)))
    ds = to_dataset(model, model.solve(), 2024)
    price = float(ds.price.sel(stage="separation", region="JPN", element="Dy", origin="china",
                               year=2024))
    base = objective(0.0)
    gain_one_more = base - objective(1.0)
    loss_one_less = objective(-1.0) - base
    assert gain_one_more > 0
    assert gain_one_more - 1e-6 <= price <= loss_one_less + 1e-6


def test_results_follow_the_contract():
    _, _, ds = _solve(tiny_world())
    expected = {
        "production": ("year", "stage", "region", "element", "origin"),
        "trade": ("year", "product", "exporter", "importer", "element", "origin"),
        "price": ("year", "stage", "region", "element", "origin"),
        "shortfall": ("year", "region", "sector"),
        "demand_response": ("year", "region", "sector"),
        "facility_output": ("year", "facility"),
    }
    for name, dims in expected.items():
        assert ds[name].dims == dims
        assert "units" in ds[name].attrs
    assert pd.Index(ds.region.values).is_unique


def test_upper_scale_multiplies_finite_bounds_and_zero_closes_flows():
    world = tiny_world()
    model = MarketModel(world)
    inputs = default_inputs(world, 2024)
    blocks = model.network.col("demand_block").size
    model.set_year(inputs, Adjustments(upper_scale={"demand_block": np.full(blocks, 0.5)}))
    half = to_dataset(model, model.solve(), 2024)
    magnet_sectors = ["ev", "electronics", "defence"]
    served = float((half.served + half.substituted).sel(sector=magnet_sectors).sum())
    model.set_year(inputs)
    full = to_dataset(model, model.solve(), 2024)
    # the reference demand scales with the curve; served stays within the halved curve
    np.testing.assert_allclose(half.demand.sel(sector=magnet_sectors).values,
                               0.5 * full.demand.sel(sector=magnet_sectors).values, rtol=1e-12)
    curve = float(model.col_upper[model.network.col("demand_block").ids].sum())
    assert 0 < served <= 0.5 * curve + 1e-6
    model.set_year(inputs, Adjustments(upper_scale={"demand_block": np.zeros(blocks)}))
    closed = to_dataset(model, model.solve(), 2024)
    assert float(closed.served.sel(sector=magnet_sectors).sum()) == pytest.approx(0.0, abs=1e-9)
