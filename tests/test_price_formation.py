"""Prices are outcomes: they move continuously with demand and follow the curves' elasticities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rareflow.engine.inventory import STOCK_ELASTICITY
from rareflow.model.demand_curve import CHOKE_RATIO, FLOOR_RATIO, breakpoints, curve_steps
from rareflow.runs.runner import prepare_run, run_parsed_scenario
from rareflow.scenario import bundled_names_of

BASELINE = Path(__file__).parents[1] / "src" / "rareflow" / "scenarios" / "baseline.yaml"
MAGNET_SECTORS = ("ev", "wind", "electronics", "industrial_motors", "defence")


def _run(tmp_path: Path, factor: float) -> xr.Dataset:
    shocks = "".join(
        f"  - {{id: surge_{sector}, type: demand_shock, sector: {sector}, years: [2026], "
        f"factor: {factor}}}\n" for sector in MAGNET_SECTORS)
    text = BASELINE.read_text().replace("policies:\n", "policies:\n" + shocks, 1)
    path = tmp_path / f"surge-{factor}.yaml"
    path.write_text(text)
    inputs = prepare_run(path, years=range(2024, 2027))
    return run_parsed_scenario(inputs.scenario, inputs.world, inputs.years).result


def inputs_world_elasticities() -> list[float]:
    """Elasticities of the bundled magnet sectors whose curves weigh most in NdPr demand."""
    world = prepare_run("baseline", years=[2024]).world
    return [world.sector(sector).elasticity for sector in ("ev", "wind", "electronics",
                                                           "industrial_motors")]


def _ndpr_2026(ds: xr.Dataset) -> float:
    return float(ds.price.sel(stage="separation", element="NdPr", region="CHN", origin="china",
                              year=2026))


def test_more_magnet_demand_raises_ndpr_within_the_elasticity_band(tmp_path: Path) -> None:
    """+10 % world magnet demand in 2026 with supply fixed by quotas and capacity.

    With a constant-elasticity demand ``Q = Q0 (p / p0)^(−ε)`` and supply unchanged, demand
    shifted out by 10 % clears at ``p / p0 = 1.1^(1/ε)``. Every buyer of NdPr in the model has an
    elasticity between the least elastic magnet sector's (0.1: EV traction and wind) and the
    stock holders' (1.0), and supply can only add to the quantity, so the rise lies between
    ``1.1^(1/1.0) − 1`` = 10 % and ``1.1^(1/0.1) − 1`` = 159 %.
    """
    base, plus5, plus10 = (_ndpr_2026(_run(tmp_path, f)) for f in (1.0, 1.05, 1.10))
    least = min(inputs_world_elasticities())
    low, high = 1.1 ** (1 / STOCK_ELASTICITY) - 1, 1.1 ** (1 / least) - 1
    rise = plus10 / base - 1
    assert low <= rise <= high, rise
    # continuous, not a jump between fixed multiples: half the shock, a smaller rise
    assert base < plus5 < plus10


def test_curve_steps_follow_the_constant_elasticity_curve() -> None:
    for elasticity in (0.02, 0.1, 0.3, 0.5):
        steps = curve_steps(elasticity)
        # the choke step holds what would pay the choke price; all steps end at the floor
        assert steps.width[0] == pytest.approx(CHOKE_RATIO ** -elasticity)
        assert steps.total == pytest.approx(FLOOR_RATIO ** -elasticity)
        assert np.all(np.diff(steps.price) < 0)
        # within half a step of the curve: r^(ε/2) for the widest breakpoint ratio r
        points = breakpoints()
        tolerance = float((points[:-1] / points[1:]).max()) ** (elasticity / 2) - 1
        for ratio in np.geomspace(0.21, 19.0, 200):
            stepped = steps.width[steps.price > ratio].sum()
            assert stepped == pytest.approx(ratio ** -elasticity, rel=tolerance + 1e-9)


@pytest.mark.parametrize("name", bundled_names_of("2024"))
def test_price_paths_are_not_fixed_multiples_of_the_reference(name: str) -> None:
    inputs = prepare_run(name, years=range(2024, 2033))
    ds = run_parsed_scenario(inputs.scenario, inputs.world, inputs.years).result
    reference = {p.element: p.usd_per_kg for p in inputs.world.reference_prices
                 if p.market == "china" and p.year == 2024}
    old_multiples = (0.5, 1.0, 3.0)
    for element in ("NdPr", "Dy", "Tb"):
        path = ds.price.sel(stage="separation", element=element, region="CHN",
                            origin="china").values
        assert len(np.unique(np.round(path, 2))) >= 4, (element, path)
        ratios = path / reference[element]
        on_old_steps = np.isclose(ratios[:, None], old_multiples, rtol=1e-3).any(axis=1)
        assert not on_old_steps.all(), (element, path)
