"""Product quality on the tiny world: off-grade oxide (< 99 %) reaches metal makers only through
a further refining step at a cost, else it goes to the lower (oxide) uses."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from rareflow.engine.balance import balance_residuals
from rareflow.engine.inputs import default_inputs
from rareflow.engine.market import OFF_GRADE_REFINING_COST, Adjustments, MarketModel
from rareflow.engine.results import to_dataset
from rareflow.model.world import World
from rareflow.testing import tiny_world


def _world() -> World:
    """The tiny world with its US light plant cheap enough to run, at 97 % purity (off grade),
    and no NdPr oxide end uses (so off-grade NdPr has no lower use to go to)."""
    data: dict[str, Any] = tiny_world().model_dump(mode="json", exclude_none=True)
    data["demand"] = [row for row in data["demand"] if row.get("element") != "NdPr"]
    for facility in data["facilities"]:
        if facility["id"] == "us_sep":
            facility["unit_cost_usd_per_kg"] = 1.0
            facility["purity_pct"] = 97.0
    return World.model_validate(data)


def _solve(extra_refining_cost: float = 0.0) -> tuple[MarketModel, xr.Dataset]:
    world = _world()
    model = MarketModel(world)
    refine = model.network.col("oxide_refine")
    adjustments = Adjustments(extra_cost={"oxide_refine": np.full(refine.size,
                                                                  extra_refining_cost)})
    model.set_year(default_inputs(world, 2024), adjustments)
    return model, to_dataset(model, model.solve(), 2024)


def _off_grade(model: MarketModel) -> float:
    """t of lo-grade oxide the US separated (what could be refined)."""
    out = model.network.outputs
    lo = out.loc[(out.family == "separate") & (out.grade == "lo") & (out.region == "USA")]
    values = model.highs.getSolution().col_value
    return float(sum(values[c] * k for c, k in zip(lo.col, lo.coef, strict=True)))


def test_off_grade_oxide_is_refined_when_metal_makers_pay_for_it() -> None:
    model, ds = _solve()
    assert OFF_GRADE_REFINING_COST > 0
    assert _off_grade(model) > 0
    refined = ds.off_grade_refined.sel(region="USA", year=2024)
    assert float(refined.sel(element="NdPr")) > 0
    assert float(refined.sum()) <= _off_grade(model) + 1e-6
    for node, residual in balance_residuals(ds).items():
        assert float(abs(residual).max()) <= 1e-6 * float(ds.production.max()), node


def test_a_prohibitive_refining_cost_leaves_the_off_grade_plant_without_an_outlet() -> None:
    cheap_model, _ = _solve()
    cheap = _off_grade(cheap_model)
    dear_model, dear = _solve(extra_refining_cost=10_000.0)
    assert float(dear.off_grade_refined.sum()) == 0.0
    # its NdPr has no lower use here: the off-grade plant makes less (the concentrate goes to
    # a plant that makes magnet-grade oxide)
    assert _off_grade(dear_model) < cheap
