"""Buyers' and traders' inventories: carried between years, built ahead of controls, sold after."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from rareflow.engine.simulate import simulate
from rareflow.policy import compile_policies
from rareflow.scenario import Scenario
from rareflow.testing import tiny_world

YEARS = list(range(2024, 2031))
CONTROL: dict[str, Any] = {
    "id": "dy_licence", "type": "export_control", "exporter": "CHN", "elements": ["Dy"],
    "announced": "2025-01-01", "start": "2026-01-01", "end": "2027-12-31", "mode": "licence",
    "approval_share": 0.5,
}


def _run(*policies: dict[str, Any]) -> xr.Dataset:
    world = tiny_world()
    scenario = Scenario.model_validate({"name": "t", "description": "t",
                                        "policies": list(policies)})
    program = compile_policies(scenario, world)
    return simulate(program.world, years=YEARS, policy=program)


@pytest.fixture(scope="module")
def quiet() -> xr.Dataset:
    return _run()


@pytest.fixture(scope="module")
def controlled() -> xr.Dataset:
    return _run(CONTROL)


def test_closing_stock_is_next_years_opening(quiet: xr.Dataset) -> None:
    level = quiet.inventory_level
    released = quiet.inventory_release
    # level(t) = level(t-1) - released(t), every region and element
    np.testing.assert_allclose(level.values[1:], level.values[:-1] - released.values[1:],
                               atol=1e-6)


def test_holders_abroad_buy_ahead_of_a_control_and_sell_after(
    quiet: xr.Dataset, controlled: xr.Dataset
) -> None:
    def abroad(ds: xr.Dataset, year: int) -> float:
        return float(ds.inventory_level.sel(element="Dy", year=year).drop_sel(region="CHN").sum())

    # announced in 2025: stocks abroad rise above the quiet path before the control starts
    assert abroad(controlled, 2025) > abroad(quiet, 2025) * 1.2
    # after the control ends (2028) the extra stock is sold down again
    assert abroad(controlled, 2029) < abroad(controlled, 2026)
    assert abroad(controlled, 2030) == pytest.approx(abroad(quiet, 2030), rel=0.15)


def test_announced_after_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="announced"):
        _run({**CONTROL, "announced": "2026-06-01"})


HALT: dict[str, Any] = {
    "id": "dy_metal_halt", "type": "trade_halt", "country": "CHN", "products": ["metal"],
    "elements": ["Dy"], "destinations": ["JPN"], "start": "2025-01-01", "end": "2025-12-31",
}


def _japan_dy_stock(ds: xr.Dataset, year: int) -> float:
    return float(ds.inventory_level.sel(element="Dy", region="JPN", year=year))


@pytest.fixture(scope="module")
def halted() -> xr.Dataset:
    return _run(HALT)


def test_holders_in_a_halted_destination_want_precautionary_cover(
    quiet: xr.Dataset, halted: xr.Dataset
) -> None:
    # China halts its Dy metal sales to Japan in 2025; Japan can still import oxide, and its
    # holders build stock while the halt lasts, then sell it down once it is over
    assert _japan_dy_stock(halted, 2025) > _japan_dy_stock(quiet, 2025) * 1.5
    assert _japan_dy_stock(halted, 2027) == pytest.approx(_japan_dy_stock(quiet, 2027), rel=0.15)


def test_overlapping_threats_do_not_compound_precaution(halted: xr.Dataset) -> None:
    # a second, identical halt asks for the same cover: holders do not want it twice over
    # (the tolerance allows for alternative optima of the duplicated rows, nothing more)
    twice = _run(HALT, {**HALT, "id": "dy_metal_halt_again"})
    assert _japan_dy_stock(twice, 2025) == pytest.approx(_japan_dy_stock(halted, 2025), rel=0.02)
